"""Prefect flow and task runs as lineage runs, through `lineage.lifecycle` only.

One Prefect run becomes one lineage run per attempt, found again by
``(external_source="prefect", external_id=<Prefect run id>, attempt)``:

* a flow run is a run of the flow's file Transform, initiated by the run
  of the calling context (the parent flow, the task that called a subflow,
  or a tracked script); it is current while the flow body runs;
* a task run is a run of the task's file Transform, initiated by its flow
  run (or by the task that called it); its parameters are the resolved
  arguments, `ln.Artifact` arguments are its inputs, and the task and
  flow runs whose results it received are its upstream runs; it is
  current while the task body runs, so artifacts saved and
  ``@ln.step()`` functions called there link to it;
* each attempt of a retried task is its own run (same external id,
  ``attempt`` = Prefect's ``run_count``); a cached result gives status
  ``cached``; a crashed or cancelled flow run gives ``aborted`` with
  Prefect's message, also for its task runs still open.

Runs that Prefect executes in other processes (a process-pool task
runner) find their flow run, and the task runs whose results they
received, through `lifecycle.find_engine_run`; the flow's process-pool
runner passes those task runs to the worker process as Prefect
dependencies (`_prefect.linking_task_runner`). Nothing
here raises: the hooks (`lineage_prefect.state_hooks`) call it inside
`lifecycle.guarded`.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineage import lifecycle
from lineage_prefect import _prefect

if TYPE_CHECKING:
    from lineage.models.run import Run

#: ``run.external_source`` of every run this adapter records.
SOURCE = "prefect"
#: Transform kind of a flow or task file seen first through Prefect.
KIND = "prefect"
#: Prefect ids whose lineage run ids are remembered per process.
_KNOWN_LIMIT = 100_000


@dataclass(slots=True)
class _Open:
    """One attempt of a Prefect run that this process started recording."""

    run: Run
    attempt: int
    activation: lifecycle.Activation | None
    flow_run_id: str | None = None
    finished: bool = False


_lock = threading.Lock()
_flows: dict[str, _Open] = {}
_tasks: dict[str, _Open] = {}
# Prefect run id -> lineage run id (latest attempt); the run itself while it is open, as a
# task run is written only when something needs its id (`lifecycle.engine_run(defer=True)`).
_known: OrderedDict[str, Run | int] = OrderedDict()
# Finished runs whose records `_known` holds until they are written, in the order they ended
# (the order their batches write them).
_unwritten: deque[Run] = deque(maxlen=_KNOWN_LIMIT)


# --- flows ---------------------------------------------------------------------------
def flow_started(flow: Any, flow_run: Any) -> None:
    """A flow run (or its next attempt) entered Running: start and activate its run."""
    key = str(flow_run.id)
    with _lock:
        previous = _flows.pop(key, None)
    attempt = 1
    if previous is not None:  # Prefect retries the flow: the earlier attempt failed
        attempt = previous.attempt + 1
        _close(previous, "errored", _retried_error(previous, "flow"))
    params = _prefect.flow_parameters(flow_run)
    upstream = [i for i in map(_lineage_id, _prefect.subflow_upstream_ids(flow_run)) if i]
    run = _template(flow.fn).run(
        external_id=key, attempt=attempt, inherit_parent=True, params=params,
        name=flow_run.name, details=_details(flow_run), upstream=upstream)
    _open(_flows, key, _Open(run, attempt, lifecycle.activate(run)))


def flow_ended(flow_run: Any, status: str, error: Any = None) -> None:
    """A flow run reached a final state: finish its run and its task runs still open."""
    key = str(flow_run.id)
    with _lock:
        current = _flows.pop(key, None)
        orphans = [(k, t) for k, t in _tasks.items() if t.flow_run_id == key]
        for task_key, _ in orphans:
            del _tasks[task_key]
    reason = None if status in ("completed", "errored") else error
    for _, task in orphans:  # a crash or cancellation gives tasks no final state of their own
        _close(task, "aborted", reason or "the flow run ended before this task run did",
               deactivate=False)
    if current is not None:
        _close(current, status, error)


def body_failed(kind: str, exc: BaseException) -> None:
    """The body of a flow or task raised `exc`: finish the current attempt with it.

    Prefect may retry; the failed attempt keeps its own traceback.
    """
    if kind == "task":
        current = _prefect.current_task_run()
        if current is None:
            return
        with _lock:
            open_run = _tasks.get(current[0])
        if open_run is None or open_run.attempt != current[1]:
            return
    else:
        from prefect.context import FlowRunContext

        context = FlowRunContext.get()
        if context is None or context.flow_run is None:
            return
        with _lock:
            open_run = _flows.get(str(context.flow_run.id))
        if open_run is None:
            return
    _finish(open_run, lifecycle.status_for(exc), exc)


# --- tasks ---------------------------------------------------------------------------
def task_started(task: Any, task_run: Any, context: Any = None) -> _Open | None:
    """A task run attempt entered Running: start and activate its run.

    Args:
        task: The Prefect task.
        task_run: Its task run.
        context: Prefect's ``TaskRunContext`` of the run, when the caller has it.

    Returns:
        The open attempt (None when it was started already).
    """
    key = str(task_run.id)
    attempt = max(task_run.run_count, 1)
    with _lock:
        previous = _tasks.get(key)
        if previous is not None and previous.attempt == attempt:
            return None  # Prefect reports Running twice for one attempt now and then
        _tasks.pop(key, None)
    if previous is not None:  # a retry: Prefect gives failed attempts no hook of their own
        _close(previous, "errored", _retried_error(previous, "task"))
    params = _prefect.task_parameters(context)
    inputs = _artifact_inputs(params)
    flow_run_id = str(task_run.flow_run_id) if task_run.flow_run_id else None
    # The runs themselves, not their ids: an upstream task run still pending is written
    # with this one (or before it), not now.
    upstream = [r for r in map(_lineage_run, _prefect.upstream_ids(task_run, inputs)) if r]
    run = _template(task.fn).run(
        external_id=key, attempt=attempt, parent=_parent(task_run, flow_run_id),
        inherit_parent=flow_run_id is None, params=params, name=task_run.name,
        details=_details(task_run), inputs=_ids_of(inputs), upstream=upstream, defer=True)
    entry = _Open(run, attempt, lifecycle.activate(run), flow_run_id)
    _open(_tasks, key, entry)
    return entry


def task_body_started() -> _Open | None:
    """The body of the drop-in task of this context starts: its attempt starts (`task_started`).

    The drop-in ``lineage_prefect.task`` records here instead of in an
    ``on_running`` hook: Prefect's call of a hook costs about as much CPU
    as lineage's recording (two log records made per call).
    """
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    if context is None or context.task_run is None:
        return None
    return task_started(context.task, context.task_run, context)


def task_body_left(entry: _Open | None) -> None:
    """The body that `task_body_started` started returned or raised: deactivate its run."""
    if entry is not None and entry.activation is not None:
        activation, entry.activation = entry.activation, None
        lifecycle.deactivate(activation)


def task_ended(task: Any, task_run: Any, status: str, error: Any = None) -> None:
    """A task run reached a final state (``completed``, ``cached``, ``errored``).

    A run whose body did not run in this process, with no Running hook
    either (a cached result of a drop-in task), starts and ends here.
    """
    key = str(task_run.id)
    with _lock:
        current = _tasks.pop(key, None)
        seen = key in _known
    if current is None and not seen and task is not None:
        current = task_started(task, task_run)
    if current is not None:
        _close(current, status, error)


# --- helpers -------------------------------------------------------------------------
def _open(registry: dict[str, _Open], key: str, entry: _Open) -> None:
    with _lock:
        registry[key] = entry
        _known[key] = entry.run
        _known.move_to_end(key)
        while len(_known) > _KNOWN_LIMIT:
            _known.popitem(last=False)


def _close(entry: _Open, status: str, error: Any = None, *, deactivate: bool = True) -> None:
    """Deactivate (in this context) and finish one attempt."""
    if deactivate and entry.activation is not None:
        activation, entry.activation = entry.activation, None
        lifecycle.deactivate(activation)
    _finish(entry, status, error)


def _finish(entry: _Open, status: str, error: Any = None) -> None:
    if entry.finished:
        return
    entry.finished = True
    run = entry.run
    lifecycle.finish_run(run, status, error if status != "completed" else None)
    with _lock:
        _unwritten.append(run)
        _keep_ids()


def _keep_ids() -> None:
    """In `_known`, the ids of finished runs that are written, not their records.

    A task run's end is written in a batch, a little later (`lifecycle.engine_run`
    with ``defer=True``): asking for its id at once would write it at once.
    Runs are written in the order they ended, so only the oldest are looked at:
    each finish costs a few steps, also while the database is unreachable and
    the queue grows (a run written early waits for the ones before it).
    """
    while _unwritten:
        run = _unwritten[0]
        run_id = lifecycle.stored_id(run)
        if run_id is None:
            return
        _unwritten.popleft()
        if _known.get(run.external_id) is run:
            _known[run.external_id] = run_id


def _retried_error(entry: _Open, kind: str) -> BaseException | str:
    """The error of an attempt that Prefect retries.

    An immediate retry starts while Prefect handles the attempt's exception,
    so it is `sys.exc_info`; after a retry delay only the fact is known.
    """
    import sys

    handled = sys.exc_info()[1]
    if isinstance(handled, Exception):
        return handled
    return f"attempt {entry.attempt} failed; Prefect retried the {kind} run"


def _lineage_id(prefect_id: str) -> int | None:
    """The lineage run id of a Prefect task or flow run (its latest attempt)."""
    run = _lineage_run(prefect_id)
    return run if run is None or isinstance(run, int) else run.id  # writes an open task run


def _lineage_run(prefect_id: str) -> Run | int | None:
    """The lineage run (or its id) of a Prefect task or flow run (its latest attempt)."""
    with _lock:
        known = _known.get(prefect_id)
    if known is not None:
        return known
    run = lifecycle.find_engine_run(SOURCE, prefect_id)  # recorded by another process
    if run is None:
        return None
    with _lock:
        _known[prefect_id] = run.id
    return run.id


def _parent(task_run: Any, flow_run_id: str | None) -> Run | int | None:
    """The run (or its id) of the task that called this one, else of its flow run.

    The run itself where it is known: the new run takes its space from it
    (an id alone is looked up when the run is written).
    """
    for item in (getattr(task_run, "task_inputs", None) or {}).get("__parents__", ()):
        parent = _lineage_run(str(item.id))
        if parent is not None:
            return parent
    return _lineage_run(flow_run_id) if flow_run_id else None


def _artifact_inputs(params: dict[str, Any]) -> dict[str, list[int]]:
    """Parameter name -> ids of the saved `ln.Artifact` values it holds (only names holding some)."""
    found: dict[str, list[int]] = {}
    for name, value in params.items():
        if type(value) in _prefect.PLAIN:
            continue
        from lineage import Artifact

        ids = [item.id for item in _prefect.iter_items(value)
               if isinstance(item, Artifact) and item.id is not None]
        if ids:
            found[name] = ids
    return found


def _ids_of(inputs: dict[str, list[int]]) -> list[int]:
    """The artifact ids of `_artifact_inputs`, each once, in order."""
    return list(dict.fromkeys(i for ids in inputs.values() for i in ids))


def _details(prefect_run: Any) -> dict[str, Any] | None:
    tags = sorted(getattr(prefect_run, "tags", None) or ())
    return {"tags": tags} if tags else None


def _template(fn: Any) -> lifecycle.RunTemplate:
    """What every run of the task or flow function `fn` shares (once per process and instance)."""
    try:
        template = _templates.get(fn)
    except TypeError:  # an unhashable callable
        template = None
    if template is not None and template.current():
        return template
    source = lifecycle.function_transform(fn, KIND)
    template = lifecycle.RunTemplate(source.transform, external_source=SOURCE,
                                     entrypoint=_qualname(fn), git=source.git)
    try:
        _templates[fn] = template
    except TypeError:
        pass
    return template


def _qualname(fn: Any) -> str:
    import inspect

    inner = inspect.unwrap(fn)
    return getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None) or repr(inner)


#: Task and flow functions -> what their runs share (the functions live as long as their tasks).
_templates: weakref.WeakKeyDictionary[Any, lifecycle.RunTemplate] = weakref.WeakKeyDictionary()
