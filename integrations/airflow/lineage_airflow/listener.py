"""Airflow listener hooks: translate Airflow's events into `tasks` and `dagruns` calls.

Every hook is `guarded`: whatever fails (an unreachable database, an
object of an unexpected shape) is logged once on ``lineage.airflow`` and
the DAG goes on. Hooks run in three kinds of process: the task process
(task-instance hooks with the task SDK's ``RuntimeTaskInstance``), the
scheduler (DAG-run hooks; a task failed because it stopped heartbeating)
and the API server (states set by hand, ``previous_state`` None).
"""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from lineage.lifecycle import guarded
from lineage_airflow import _internals, dagruns, tasks

ADAPTER = "airflow"


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    """A try starts (task process)."""
    if _internals.in_task_process(task_instance):
        with guarded(ADAPTER, "the start of a task"):
            tasks.started(task_instance)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    """A try succeeded (task process), or an operator marked it successful (API server)."""
    _ended(previous_state, task_instance, "success")


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    """A try failed or will be retried; the scheduler failed a lost try; or marked failed."""
    if _internals.in_task_process(task_instance):
        _ended(previous_state, task_instance, _state(task_instance.state) or "failed", error)
    elif previous_state is None:
        _ended(previous_state, task_instance, "failed", error)
    else:
        with guarded(ADAPTER, "a task failed by the scheduler"):
            tasks.killed(task_instance, error)


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    """A try skipped itself (task process), or an operator marked it skipped."""
    _ended(previous_state, task_instance, "skipped")


def _ended(previous_state: Any, ti: Any, state: str, error: Any = None) -> None:
    if not _internals.in_task_process(ti):
        with guarded(ADAPTER, "a task state set by hand"):
            tasks.set_by_hand(ti, state, error)
        return
    with guarded(ADAPTER, "the end of a task"):
        record = tasks.stop_tracking(ti)
        if state not in tasks.STATUS:
            state = "failed"
        tasks.ended(ti, record, state, error)


@hookimpl
def on_dag_run_running(dag_run: Any, msg: str) -> None:
    """The scheduler started a DAG run."""
    with guarded(ADAPTER, "the start of a DAG run"):
        dagruns.scheduler_dag_run(dag_run)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    """A DAG run succeeded (scheduler, ``dag.test()``, or marked so)."""
    _dag_run_ended(dag_run, "completed")


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    """A DAG run failed (scheduler, ``dag.test()``, or marked so)."""
    _dag_run_ended(dag_run, "errored", msg)


def _dag_run_ended(dag_run: Any, status: str, msg: str | None = None) -> None:
    with guarded(ADAPTER, "the end of a DAG run"):
        error = f"DAG run failed ({msg})" if status == "errored" else None
        run = dagruns.scheduler_dag_run(dag_run, status=status, error=error)
        if run.status != status:  # ended before: this is a change (marked by an operator)
            from lineage import lifecycle

            lifecycle.correct_status(run, status, error=error,
                                     reason=f"DAG run state set to {status} in Airflow")
        dagruns.close_task_runs(dag_run, run)
