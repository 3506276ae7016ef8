"""Task tries: recorded in the task process, corrected by the scheduler and the API server.

In the task process (``RuntimeTaskInstance``): `started` creates the run
of the try (its DAG run first, if nobody did), records its inlets and the
runs whose XCom values it receives, and makes it the current run, so that
artifacts saved and scripts tracked inside the task link to it; `ended`
records outlets and hook-lineage assets and the final status.

Outside it (ORM ``TaskInstance``): `killed` is the scheduler failing a try
whose process stopped heartbeating or vanished (``aborted``); `set_by_hand`
a state an operator set in the UI or API (a status correction).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from lineage import lifecycle
from lineage_airflow import assets, ids
from lineage_airflow.dagruns import dag_run_facts, dag_transform, ensure_dag_run
from lineage_airflow.params import dag_params, task_params

#: Final statuses of a try, by the Airflow state it ended in.
STATUS = {"success": "completed", "failed": "errored", "up_for_retry": "errored",
          "skipped": "skipped", "upstream_failed": "skipped", "removed": "skipped"}


@dataclass
class Try:
    """A try started in this process and not ended yet."""

    run: Any
    transform_id: int
    activation: Any
    hook_lineage: assets.HookLineage


_tries: dict[tuple[str, int], Try] = {}
_lock = threading.Lock()


def key_of(ti: Any) -> tuple[str, int]:
    """(external_id, attempt) of a task instance's current try."""
    return (ids.task_external_id(ti.dag_id, ti.run_id, ti.task_id, ti.map_index),
            ids.task_attempt(ti.try_number))


# --- the task process ---------------------------------------------------------------
def started(ti: Any) -> Any:
    """Record the start of a try (task process, state ``running``); return its run."""
    external_id, attempt = key_of(ti)
    task = ti.task
    context = ti.get_template_context()
    dag_run = context["dag_run"]
    logical_date = context.get("logical_date")
    parent = ensure_dag_run(
        fileloc=task.dag.fileloc, dag_id=ti.dag_id, run_id=ti.run_id,
        clear_number=getattr(dag_run, "clear_number", 0),
        params=dag_params(context.get("params"), logical_date), details=dag_run_facts(dag_run))
    source = _task_source(task)
    inlets = assets.asset_uris(task.inlets)
    details = {**_facts(ti), **({"inlets": inlets} if inlets else {})}
    run = lifecycle.engine_run(
        source.transform, external_source=ids.SOURCE, external_id=external_id, attempt=attempt,
        parent=parent, entrypoint=ti.task_id, name=f"{ti.dag_id}.{ti.task_id}",
        params=task_params(task, logical_date), details=details, git=source.git)
    upstream = _xcom_upstream_runs(ti)
    if upstream:
        lifecycle.record_upstream(run, *upstream)
    assets.record_uris(run, inlets, "input")
    record = Try(run, run.transform_id, None, assets.HookLineage())
    # Operators copy os.environ for the processes they start (a BashOperator's script).
    record.activation = lifecycle.activate(run, env_now=True)
    with _lock:
        _tries[(external_id, attempt)] = record
    return run


def stop_tracking(ti: Any) -> Try | None:
    """Forget the try of `ti` in this process and undo its activation (no database access)."""
    with _lock:
        record = _tries.pop(key_of(ti), None)
    if record is not None and record.activation is not None:
        lifecycle.deactivate(record.activation)
    return record


def ended(ti: Any, record: Try | None, state: str, error: Any = None) -> Any:
    """Record the end of a try in its process: outputs, assets, the final status."""
    external_id, attempt = key_of(ti)
    task = ti.task
    run = record.run if record is not None else None
    if run is None:  # the start went unrecorded (the database was away): record it now
        source = _task_source(task)
        run = lifecycle.engine_run(source.transform, external_source=ids.SOURCE,
                                   external_id=external_id, attempt=attempt,
                                   entrypoint=ti.task_id, name=f"{ti.dag_id}.{ti.task_id}",
                                   details=_facts(ti))
    details: dict[str, Any] = {"airflow_state": state}
    if record is not None:
        read, written = record.hook_lineage.new_uris()
        if read:
            details["read"] = read
            assets.record_uris(run, read, "input")
        if written and state == "success":
            details["written"] = written
            assets.record_uris(run, written, "output")
    if state == "success":
        outlets = assets.asset_uris(task.outlets)
        if outlets:
            details["outlets"] = outlets
            assets.record_uris(run, outlets, "output")
    return lifecycle.engine_run(
        run.transform_id, external_source=ids.SOURCE, external_id=external_id, attempt=attempt,
        status=STATUS.get(state, "errored"), error=error, details=details)


# --- scheduler and API server ------------------------------------------------------------
def killed(ti: Any, error: Any) -> Any:
    """The scheduler failed a running try (no heartbeat, or its process vanished): aborted."""
    external_id, attempt = key_of(ti)
    run = lifecycle.find_engine_run(ids.SOURCE, external_id, attempt)
    if run is None:
        run = _core_side_run(ti, external_id, attempt, "aborted", error)
    else:
        lifecycle.finish_run(run, "aborted", error)
    return run


def set_by_hand(ti: Any, state: str, error: Any = None) -> Any:
    """An operator set the state of a task instance: correct the status of its try."""
    external_id, attempt = key_of(ti)
    status = STATUS[state]
    error = error if status == "errored" else None
    run = lifecycle.find_engine_run(ids.SOURCE, external_id, attempt)
    if run is None:
        return _core_side_run(ti, external_id, attempt, status, error,
                              details={"airflow_state": state, "set_by_hand": True})
    lifecycle.correct_status(run, status, error=error,
                             reason=f"state set to {state!r} in Airflow by an operator")
    return run


def _core_side_run(ti: Any, external_id: str, attempt: int, status: str, error: Any,
                   details: dict[str, Any] | None = None) -> Any:
    """A run for a try that its task process never recorded (an ORM TaskInstance)."""
    dag_run = ti.dag_run
    from lineage_airflow.dagruns import scheduler_dag_run

    parent = scheduler_dag_run(dag_run)
    return lifecycle.engine_run(
        parent.transform_id, external_source=ids.SOURCE, external_id=external_id,
        attempt=attempt, parent=parent, entrypoint=ti.task_id, name=f"{ti.dag_id}.{ti.task_id}",
        details={**_facts(ti), **(details or {})}, status=status, error=error)


# --- helpers -------------------------------------------------------------------------------
def _task_source(task: Any) -> lifecycle.Source:
    """The Transform of a task: its Python function's file, else the DAG file."""
    fn = getattr(task, "python_callable", None)
    if callable(fn):
        try:
            return lifecycle.function_transform(fn, "airflow")
        except (OSError, TypeError):  # a builtin or C function: no source file
            pass
    return dag_transform(task.dag.fileloc)


def _facts(ti: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
                             "ti_id": str(ti.id)}
    if ti.map_index is not None and ti.map_index >= 0:
        facts["map_index"] = ti.map_index
    task = getattr(ti, "task", None)
    if task is not None:
        facts["operator"] = type(task).__name__
        fn = getattr(task, "python_callable", None)
        if callable(fn):
            facts["callable"] = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    else:
        operator = getattr(ti, "operator", None)
        if operator:
            facts["operator"] = operator
    hostname = getattr(ti, "hostname", None)
    if hostname:
        facts["hostname"] = hostname
    return facts


def _xcom_upstream_runs(ti: Any) -> list[Any]:
    """Runs of the tasks whose XCom values this task's arguments receive."""
    import lineage as ln
    from airflow.sdk.definitions.xcom_arg import XComArg

    original = ti.task.dag.get_task(ti.task_id)  # unrendered: arguments still XComArgs
    values = [getattr(original, name, None) for name in getattr(original, "template_fields", ())]
    operators = [op for value in values for op, _key in XComArg.iter_xcom_references(value)]
    if hasattr(original, "iter_mapped_dependencies"):  # a mapped task: what it expands over
        operators.extend(original.iter_mapped_dependencies())
    task_ids = []
    for operator in operators:
        if operator.task_id not in task_ids and operator.task_id != ti.task_id:
            task_ids.append(operator.task_id)
    runs = []
    for task_id in task_ids:
        external_id = ids.task_external_id(ti.dag_id, ti.run_id, task_id)
        run = lifecycle.find_engine_run(ids.SOURCE, external_id)
        if run is not None:
            runs.append(run)
            continue
        # A mapped upstream task: the tries of each of its instances.
        mapped = ln.Run.filter(external_source=ids.SOURCE, status="completed",
                               external_id__startswith=f"{external_id}[").all()
        runs.extend(mapped)
    return runs
