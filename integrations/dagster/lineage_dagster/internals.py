"""Every use of a private Dagster API, one named function each.

Dagster's public API does not reach everything the adapter needs. What it
takes from ``dagster._core``, ``dagster._serdes`` or from undocumented
attributes lives here and nowhere else, each piece in one function that
``tests/test_internals.py`` checks against the pinned Dagster
(`PINNED_VERSION`). An upgrade that moves one of them then fails in one
place, with a message naming the function, instead of somewhere deep in a
user's run.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from typing import Any

#: The Dagster release these functions were written and tested against.
PINNED_VERSION = "1.13.29"

#: The run id Dagster gives an upstream output that an earlier run produced.
_EPHEMERAL_RUN_ID = "__EPHEMERAL_RUN_ID"
_ATTEMPT = re.compile(r"\(attempt # (\d+)\)")


def subscribe_to_run(instance: Any, run_id: str, callback: Callable[[Any], None]) -> None:
    """Call ``callback(entry)`` for every event of `run_id` that `instance` handles here.

    ``DagsterInstance.add_event_listener`` is undocumented: Dagster uses it
    to watch runs in process. The callback runs synchronously in the thread
    that emitted the event (a step's own thread for step events).
    """
    instance.add_event_listener(run_id, callback)


def unsubscribe_from_run(instance: Any, run_id: str, callback: Callable[[Any], None]) -> None:
    """Stop calling `callback` for the events of `run_id` (`subscribe_to_run` undone).

    Dagster has no public way: its listeners are a list per run id in
    ``DagsterInstance._subscribers``. The list is replaced, not changed in
    place, as Dagster may be iterating it (the callback removes itself).
    """
    subscribers = instance._subscribers  # noqa: SLF001
    remaining = [cb for cb in subscribers.get(run_id, ()) if cb is not callback]
    if remaining:
        subscribers[run_id] = remaining
    else:
        subscribers.pop(run_id, None)


def run_listener_count(instance: Any) -> int:
    """How many event listeners `instance` holds, over all runs (for leak checks)."""
    return sum(len(callbacks) for callbacks in instance._subscribers.values())  # noqa: SLF001


def restart_attempt(message: str | None) -> int | None:
    """The attempt number of a ``STEP_RESTARTED`` event, from its message.

    Dagster's event carries the number only in its text:
    ``Started re-execution (attempt # 2) of step "flaky".``
    """
    match = _ATTEMPT.search(message or "")
    return int(match.group(1)) if match else None


def step_attempt(io_context: Any) -> int | None:
    """The attempt (1, 2, ...) of the step an Input/OutputContext belongs to, if Dagster knows.

    Dagster tracks attempts in a "known execution state" that some
    executions (a re-execution run in process) do not provide.
    """
    try:
        return int(io_context.step_context.previous_attempt_count) + 1
    except Exception:  # noqa: BLE001 - dagster's CheckError when the state is missing
        return None


def io_step(io_context: Any) -> tuple[str, str]:
    """(run id, step key) of the step an Input/OutputContext belongs to."""
    step_context = io_context.step_context
    return step_context.run_id, step_context.step.key


def node_handle_path(io_context: Any) -> list[str]:
    """The op's handle path (graph names, then the op) of an Input/OutputContext."""
    return list(io_context.step_context.node_handle.path)


def is_real_run_id(run_id: str | None) -> bool:
    """False for Dagster's placeholder of an output that an earlier run produced."""
    return bool(run_id) and run_id != _EPHEMERAL_RUN_ID


def code_origin_file(dagster_run: Any) -> str | None:
    """The Python file a run's code was loaded from, if Dagster knows it.

    Runs launched from a code location or with ``reconstructable(job)``
    carry a code pointer (a file, a module or a package); runs of
    ``execute_in_process`` and ``materialize`` carry none.
    """
    origin = getattr(dagster_run, "job_code_origin", None)
    if origin is None:
        return None
    pointer = origin.repository_origin.code_pointer
    while getattr(pointer, "reconstructor_pointer", None) is not None:  # build_reconstructable_job
        pointer = pointer.reconstructor_pointer
    python_file = getattr(pointer, "python_file", None)
    if python_file:
        return str(python_file)
    module = getattr(pointer, "module", None)
    if module:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        return spec.origin if spec is not None and spec.origin not in (None, "built-in") else None
    return None


def op_function(op_def: Any) -> Callable[..., Any] | None:
    """The user's Python function behind an op (or an asset's op)."""
    compute = getattr(op_def, "compute_fn", None)
    fn = getattr(compute, "decorated_fn", compute)
    return fn if callable(fn) else None


def op_definitions(node_def: Any) -> Iterator[Any]:
    """The op definitions of a node: itself for an op, every op inside for a graph."""
    if hasattr(node_def, "iterate_op_defs"):
        yield from node_def.iterate_op_defs()
    else:
        yield node_def


def default_io_manager() -> Any:
    """Dagster's own default IO manager definition (files; in memory in `execute_in_process`)."""
    from dagster._core.definitions.job_definition import default_job_io_manager

    return default_job_io_manager


def has_own_resources(job: Any) -> bool:
    """Whether a ``@job`` got its resources when it was defined (Definitions then add none)."""
    return bool(job._was_provided_resources)  # noqa: SLF001


def event_log_storage_class() -> type:
    """The base class of Dagster's event log storages."""
    from dagster._core.storage.event_log.base import EventLogStorage

    return EventLogStorage


def configurable_class() -> type:
    """The base class of classes that ``dagster.yaml`` names by module and class."""
    from dagster._serdes import ConfigurableClass

    return ConfigurableClass


def build_configurable(module: str, class_name: str, config: dict[str, Any], as_type: type) -> Any:
    """Instantiate a class named in ``dagster.yaml`` with its config, as Dagster does."""
    import yaml
    from dagster._serdes import ConfigurableClassData

    return ConfigurableClassData(module, class_name, yaml.safe_dump(config)).rehydrate(as_type)


def storage_instance(storage: Any) -> Any:
    """The DagsterInstance an event log storage was registered with (or None)."""
    ref = getattr(storage, "_instance_weakref", None)
    return ref() if ref is not None else None
