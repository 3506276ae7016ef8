"""DAG runs: the run of the DAG file, and what the scheduler alone sees.

The scheduler reports a DAG run's start and end; ``dag.test()`` only its
end, so the first task of a DAG run creates the run when nobody did (both
land on one run: `lineage.lifecycle.engine_run` is idempotent). At the end
of a DAG run, the task instances that never ran get ``skipped`` runs (a
branch not taken, an upstream failure), and task tries still open get the
status Airflow gave them: a try whose process died without reporting
(``kill -9``, out of memory) is ``aborted``.
"""

from __future__ import annotations

from typing import Any

from lineage import lifecycle
from lineage_airflow import _internals, ids
from lineage_airflow.params import dag_params

#: Airflow states of task instances that never ran.
NEVER_RAN = ("skipped", "upstream_failed", "removed")
#: What an open try becomes when its DAG run has ended, by Airflow state.
_CLOSED_AS = {"success": "completed", "skipped": "skipped", "upstream_failed": "skipped"}
ORPHAN_ERROR = ("The task process ended without reporting the end of this try "
                "(killed, out of memory, or lost); Airflow's state: {state}.")


def dag_transform(fileloc: str) -> lifecycle.Source:
    """The Transform of a DAG file (kind ``airflow``)."""
    return lifecycle.file_transform(fileloc, "airflow")


def ensure_dag_run(*, fileloc: str, dag_id: str, run_id: str, clear_number: int | None,
                   params: dict[str, Any] | None = None, details: dict[str, Any] | None = None,
                   status: str = "started", error: Any = None) -> Any:
    """The run of a DAG run, created if new (a final `status` finishes it)."""
    external_id = ids.dag_run_external_id(dag_id, run_id)
    attempt = ids.dag_run_attempt(clear_number)
    if status == "started":
        known = lifecycle.find_engine_run(ids.SOURCE, external_id, attempt)
        if known is not None:
            return known
    source = dag_transform(fileloc)
    return lifecycle.engine_run(
        source.transform, external_source=ids.SOURCE, external_id=external_id, attempt=attempt,
        entrypoint=dag_id, name=f"{dag_id} {run_id}", params=params, details=details,
        git=source.git, inherit_parent=True, status=status, error=error)


def dag_run_facts(dag_run: Any) -> dict[str, Any]:
    """``run.details`` of a DAG run (an ORM DagRun or the task SDK's model)."""
    facts: dict[str, Any] = {"dag_id": dag_run.dag_id, "run_id": dag_run.run_id}
    for name in ("run_type", "data_interval_start", "data_interval_end", "run_after",
                 "triggering_user_name"):
        value = getattr(dag_run, name, None)
        if value is not None:
            facts[name] = getattr(value, "value", value)
    conf = getattr(dag_run, "conf", None)
    if conf:
        facts["conf"] = _internals.redact(dict(conf))
    return facts


def scheduler_dag_run(dag_run: Any, status: str = "started", error: Any = None) -> Any:
    """The run of an ORM DagRun (in the scheduler or ``dag.test()``), with its params."""
    dag = getattr(dag_run, "dag", None)
    fileloc = getattr(dag, "fileloc", None) or dag_run.dag_model.fileloc
    params = None
    if dag is not None and getattr(dag, "params", None) is not None:
        resolved = dict(dag.params)
        resolved.update({k: v for k, v in (dag_run.conf or {}).items() if k in resolved})
        params = dag_params(resolved, dag_run.logical_date)
    return ensure_dag_run(fileloc=fileloc, dag_id=dag_run.dag_id, run_id=dag_run.run_id,
                          clear_number=dag_run.clear_number, params=params,
                          details=dag_run_facts(dag_run), status=status, error=error)


def close_task_runs(dag_run: Any, run: Any) -> None:
    """At the end of a DAG run: skipped runs for tasks that never ran; close open tries."""
    import lineage as ln

    open_runs = {}
    for task_run in ln.Run.filter(external_source=ids.SOURCE, initiated_by_run_id=run.id,
                                  status__in=list(lifecycle.OPEN_STATUSES)).all():
        open_runs[(task_run.external_id, task_run.attempt)] = task_run
    for ti in _internals.task_instances_of(dag_run):
        state = str(getattr(ti.state, "value", ti.state))
        external_id = ids.task_external_id(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        attempt = ids.task_attempt(ti.try_number)
        for (known_id, known_attempt), task_run in list(open_runs.items()):
            if known_id != external_id:
                continue
            final = _CLOSED_AS.get(state, "aborted") if known_attempt == attempt else "aborted"
            error = ORPHAN_ERROR.format(state=state) if final == "aborted" else None
            lifecycle.finish_run(task_run, final, error)
            del open_runs[(known_id, known_attempt)]
        if state in NEVER_RAN and lifecycle.find_engine_run(ids.SOURCE, external_id) is None:
            lifecycle.engine_run(
                run.transform_id, external_source=ids.SOURCE, external_id=external_id,
                attempt=attempt, parent=run, entrypoint=ti.task_id, status="skipped",
                name=f"{ti.dag_id}.{ti.task_id}", details={"airflow_state": state, **_ti_facts(ti)})


def _ti_facts(ti: Any) -> dict[str, Any]:
    facts = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id}
    if ti.map_index is not None and ti.map_index >= 0:
        facts["map_index"] = ti.map_index
    operator = getattr(ti, "operator", None)
    if operator:
        facts["operator"] = operator
    return facts
