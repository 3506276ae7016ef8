"""What the adapter reads from Prefect objects (and adds to one), in one place.

Everything here depends on the shape of Prefect's objects (measured on
Prefect 3.9): the task run context, futures, ``task_inputs``, the data
of a failed state, and the process-pool task runner's ``submit``. When
Prefect changes, this is the module to adapt; the rest of the adapter
only sees plain values.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from typing import Any

#: Keys of ``task_run.task_inputs`` that are not data passed to the task.
_NOT_DATA = frozenset({"wait_for", "__parents__"})
#: Types of values that hold nothing else (no future, no artifact): looked at no further.
PLAIN = frozenset({int, float, str, bool, bytes, type(None)})


def task_parameters(context: Any = None) -> dict[str, Any]:
    """The parameters of a task run context, futures replaced by their values.

    In ``on_running`` the context still holds the arguments as submitted:
    ``PrefectFuture`` objects for ``.submit(future)`` calls (finished by
    then: Prefect waits for them before the task starts).

    Args:
        context: Prefect's ``TaskRunContext``; None: the one of this context.
    """
    if context is None:
        from prefect.context import TaskRunContext

        context = TaskRunContext.get()
    if context is None or not context.parameters:
        return {}
    parameters = dict(context.parameters)
    for name, value in parameters.items():
        if type(value) not in PLAIN:
            from prefect.futures import PrefectFuture

            parameters[name] = _resolved(value, PrefectFuture)
    return parameters


def flow_parameters(flow_run: Any) -> dict[str, Any]:
    """The parameters of a flow run, as Prefect stores them (JSON-safe values).

    In ``on_running`` the flow's own context is not entered yet (a subflow
    still sees its parent's), so the run's serialized parameters are what
    there is.
    """
    return dict(getattr(flow_run, "parameters", None) or {})


def current_task_run() -> tuple[str, int] | None:
    """``(task run id, attempt)`` of the task run of this context, or None."""
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    if context is None or context.task_run is None:
        return None
    return str(context.task_run.id), max(context.task_run.run_count, 1)


def upstream_ids(task_run: Any, skip: Container[str] = frozenset()) -> list[str]:
    """Prefect ids of the task and flow runs whose results this task run received.

    From ``task_run.task_inputs`` (parameter name -> list of run inputs);
    ordering-only dependencies (``wait_for``) and parent tasks are not data.

    Args:
        task_run: The Prefect task run.
        skip: Parameter names to leave out (those recorded as artifacts).
    """
    ids: list[str] = []
    for name, inputs in (getattr(task_run, "task_inputs", None) or {}).items():
        if name in _NOT_DATA or name in skip:
            continue
        for item in inputs:
            if getattr(item, "input_type", None) in ("task_run", "flow_run"):
                run_id = str(item.id)
                if run_id not in ids:
                    ids.append(run_id)
    return ids


def subflow_upstream_ids(flow_run: Any) -> list[str]:
    """Prefect ids of the runs whose results a subflow run received from its parent flow.

    Prefect records them on the subflow's stand-in task run in the parent
    (``flow_run.parent_task_run_id``), which only the API has: one request
    per subflow run.
    """
    parent_task_run_id = getattr(flow_run, "parent_task_run_id", None)
    if parent_task_run_id is None:
        return []
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return upstream_ids(client.read_task_run(parent_task_run_id))


def state_error(state: Any) -> BaseException | str | None:
    """The exception of a failed or crashed state (with its traceback), else its message."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    result = getattr(data, "result", None)  # a ResultRecord holding the exception
    if isinstance(result, BaseException):
        return result
    return getattr(state, "message", None) or getattr(state, "name", None)


def is_cached(state: Any) -> bool:
    """Whether a completed state reused an earlier result."""
    return getattr(state, "name", None) == "Cached"


def _resolved(value: Any, future: type) -> Any:
    """`value` with futures (of class `future`, Prefect's) replaced by their results."""
    if isinstance(value, future):
        return value.result(raise_on_failure=False)
    if isinstance(value, (list, tuple, set, frozenset)) and any(
            isinstance(item, future) for item in value):
        items = [_resolved(item, future) for item in value]
        return items if isinstance(value, list) else type(value)(items)
    if isinstance(value, Mapping) and any(isinstance(v, future) for v in value.values()):
        return {key: _resolved(item, future) for key, item in value.items()}
    return value


def iter_items(value: Any) -> Iterator[Any]:
    """`value` itself, or the items of a list, tuple, set or dict's values."""
    if isinstance(value, (list, tuple, set, frozenset)):
        yield from value
    elif isinstance(value, Mapping):
        yield from value.values()
    else:
        yield value


def future_inputs(parameters: Mapping[str, Any]) -> dict[str, set[Any]]:
    """Prefect's run inputs (``TaskRunResult``) of the futures among a task's `parameters`.

    What Prefect puts in ``task_run.task_inputs`` when the task runs in the
    flow's own process; only parameters holding futures are listed.
    """
    from prefect.utilities.engine import collect_task_run_inputs_sync

    found = {name: collect_task_run_inputs_sync(value) for name, value in parameters.items()}
    return {name: inputs for name, inputs in found.items() if inputs}


_linking_classes: dict[type, type] = {}


def linking_task_runner(runner: Any) -> Any:
    """`runner`, or for a process-pool runner one that tells worker processes where data came from.

    Prefect's ``ProcessPoolTaskRunner`` resolves futures before a task goes
    to a worker process, so there the task run's ``task_inputs`` lack the
    task runs whose results it received. The runner returned (a copy of
    `runner`, of a subclass of its class) passes them as Prefect's own
    ``dependencies`` of the submission, which Prefect adds to the worker's
    ``task_inputs`` (and shows in its UI). Any other runner is returned as is.
    """
    from prefect.task_runners import ProcessPoolTaskRunner

    kind = type(runner)
    if not isinstance(runner, ProcessPoolTaskRunner) or kind in _linking_classes.values():
        return runner
    linking = _linking_classes.get(kind)
    if linking is None:
        linking = _linking_classes[kind] = type(kind.__name__, (kind,), {
            "submit": _submit_with_dependencies(kind.submit), "__module__": kind.__module__,
            "__qualname__": kind.__qualname__})
    import copy

    linked = copy.copy(runner)
    linked.__class__ = linking
    return linked


def _submit_with_dependencies(submit: Any) -> Any:
    """`submit` of a task runner, adding the future inputs of `parameters` to `dependencies`."""

    def submitting(self: Any, task: Any, parameters: dict[str, Any], wait_for: Any = None,
                   dependencies: Any = None) -> Any:
        from lineage import lifecycle

        with lifecycle.guarded("prefect", "Prefect runs"):
            found = future_inputs(parameters)
            if found:  # the worker looks those task runs up: they must be written
                lifecycle.write_pending_runs()
                merged = {name: set(inputs) for name, inputs in (dependencies or {}).items()}
                for name, inputs in found.items():
                    merged[name] = merged.get(name, set()) | inputs
                dependencies = merged
        return submit(self, task, parameters, wait_for, dependencies)

    submitting.__name__ = submitting.__qualname__ = "submit"
    return submitting
