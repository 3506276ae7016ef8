"""What lineage-airflow takes from Airflow beyond its documented API (`_internals`)."""

from __future__ import annotations

from lineage_airflow import _internals


def test_redact_masks_what_airflow_was_told_is_secret():
    from airflow.sdk.log import mask_secret

    mask_secret("tk-5521-secret-value")
    assert _internals.redact({"a": "x tk-5521-secret-value y"}) == {"a": "x *** y"}
    assert _internals.redact({"password": "plain"}) == {"password": "***"}


def test_task_process_instances_are_told_from_orm_ones():
    from airflow.models.taskinstance import TaskInstance
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    assert _internals.in_task_process(RuntimeTaskInstance.model_construct())
    assert not _internals.in_task_process(TaskInstance.__new__(TaskInstance))


def test_task_instances_are_read_without_committing_the_callers_session(run_dag):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.sqlalchemy import prohibit_commit
    from sqlalchemy import select

    finished = run_dag("branch")
    assert {ti.task_id for ti in _internals.task_instances_of(finished)} >= {"left", "right"}
    with create_session() as session:
        with prohibit_commit(session):  # what the scheduler loop does: a commit raises
            dag_run = session.scalars(select(DagRun).where(
                DagRun.run_id == finished.run_id, DagRun.dag_id == "branch")).one()
            states = {ti.task_id: str(ti.state) for ti in _internals.task_instances_of(dag_run)}
        assert states["right"] == "skipped"
