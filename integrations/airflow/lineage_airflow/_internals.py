"""Everything this integration takes from Airflow beyond its documented API.

Kept in one place, each with a test (tests/test_internals.py) that fails
loudly when an Airflow upgrade moves it:

- `redact`: Airflow's secrets masker (``airflow.sdk._shared.secrets_masker``,
  where Airflow's own deprecation notice points); it replaces the values of
  connections and variables a task fetched (and any value masked with
  ``mask_secret``) by ``***``.
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
