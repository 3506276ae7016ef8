"""Everything this integration takes from Airflow beyond its documented API.

Kept in one place, each with a test (tests/test_internals.py) that fails
loudly when an Airflow upgrade moves it:

- `redact`: Airflow's secrets masker (``airflow.sdk._shared.secrets_masker``,
  where Airflow's own deprecation notice points); it replaces the values of
  connections and variables a task fetched (and any value masked with
  ``mask_secret``) by ``***``.
- `task_instances_of`: the task instances of an ORM DagRun, read in the
  session the DagRun belongs to. ``DagRun.get_task_instances()`` without
  a session opens Airflow's thread-scoped session and commits and closes
  it: inside the scheduler loop that is the scheduler's own session
  (Airflow raises "UNEXPECTED COMMIT", and the scheduler's objects are
  detached). A query in the session the DagRun is bound to commits
  nothing; a detached DagRun (``dag.test()``) is read in a new session of
  Airflow's engine, closed without a commit.
- `in_task_process`: whether a task instance is the task SDK's
  ``RuntimeTaskInstance`` (the task process) or the ORM ``TaskInstance``
  (scheduler, API server). The listener specs name both types; no public
  attribute tells them apart, so the class's module decides.
"""

from __future__ import annotations

from typing import Any


def redact(value: Any) -> Any:
    """`value` with every secret Airflow knows of replaced by ``***``."""
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    return airflow_redact(value)


def in_task_process(task_instance: Any) -> bool:
    """True for the task SDK's task instance (the hook runs in the task process)."""
    return type(task_instance).__module__.startswith("airflow.sdk.")


def task_instances_of(dag_run: Any) -> list[Any]:
    """The task instances of an ORM DagRun, queried in its own session (never committed)."""
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        return list(dag_run.get_task_instances(session=session))
    from airflow import settings
    from sqlalchemy.orm import Session

    with Session(settings.engine) as own:
        return list(dag_run.get_task_instances(session=own))
