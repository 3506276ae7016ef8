"""lineage for Apache Airflow: DAG runs, task attempts, params and files.

Installing ``lineage-airflow`` registers the Airflow plugin
`lineage_airflow.plugin.LineagePlugin` (entry point ``airflow.plugins``);
DAG files need no change. Every DAG run becomes a Run of the DAG file's
Transform and every try of a task instance a Run of its own, linked to the
DAG run, with the task's arguments, the files it read and wrote, the runs
whose XCom values it received and its final status (see docs/airflow.md).

Runs are found again across processes (scheduler, workers, API server) by
the ids of `lineage_airflow.ids`. Importing this package imports nothing
of Airflow.
"""

from lineage_airflow.ids import SOURCE, dag_run_attempt, dag_run_external_id, task_attempt, task_external_id

__version__ = "0.1.0"

__all__ = ["SOURCE", "dag_run_attempt", "dag_run_external_id", "task_attempt",
           "task_external_id"]
