"""A branch not taken (skipped by the branch task) and a task that skips itself."""

import datetime

from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG, task
from airflow.exceptions import AirflowSkipException

with DAG("branch", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "left")

    @task
    def left():
        return "left"

    @task
    def right():
        return "right"

    @task
    def nothing_to_do():
        raise AirflowSkipException("no new files today")

    choose >> [left(), right()]
    nothing_to_do()
