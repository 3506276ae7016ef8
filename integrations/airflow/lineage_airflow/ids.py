"""The ids that tie Airflow's objects to their runs, in every process.

A DAG run and a task try are reported by several processes: the scheduler
(DAG-run state changes, tasks without a heartbeat), the task process (start,
end), the API server (a state set by hand). Each of them computes the same
``(external_source, external_id, attempt)`` from what it knows, and
`lineage.lifecycle.engine_run` makes all of them land on one run:

====================  ===========================================  ===================
Airflow object        ``external_id``                              ``attempt``
====================  ===========================================  ===================
DAG run               ``<dag_id>/<run_id>``                        clear number + 1
task instance try     ``<dag_id>/<run_id>/<task_id>``              try number
mapped instance try   ``<dag_id>/<run_id>/<task_id>[<map_index>]`` try number
====================  ===========================================  ===================

Airflow allows no ``/`` in DAG ids, task ids or run ids, so the ids cannot
collide. The task instance's own UUID (``ti.id``) is new for every try; it
is kept in ``run.details["ti_id"]`` but is no part of the id, so that all
tries of one task instance share one ``external_id``.
"""

from __future__ import annotations

#: ``run.external_source`` of every run this integration records.
SOURCE = "airflow"


def dag_run_external_id(dag_id: str, run_id: str) -> str:
    """``external_id`` of a DAG run."""
    return f"{dag_id}/{run_id}"


def dag_run_attempt(clear_number: int | None) -> int:
    """``attempt`` of a DAG run: 1, and one more each time the whole run is cleared."""
    return int(clear_number or 0) + 1


def task_external_id(dag_id: str, run_id: str, task_id: str, map_index: int | None = -1) -> str:
    """``external_id`` of a task instance (all its tries share it)."""
    base = f"{dag_id}/{run_id}/{task_id}"
    if map_index is None or map_index < 0:
        return base
    return f"{base}[{map_index}]"


def task_attempt(try_number: int | None) -> int:
    """``attempt`` of a task try (a task that never ran has try number 0: attempt 1)."""
    return max(1, int(try_number or 0))
