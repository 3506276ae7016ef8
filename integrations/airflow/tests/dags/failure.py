"""A task that fails for good; its downstream task never runs."""

import datetime

from airflow.sdk import DAG, task

with DAG("failure", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:

    @task
    def validate(batch: str):
        raise ValueError(f"batch {batch} has 3 rows with a negative amount")

    @task
    def publish(ok):
        return ok

    publish(validate("b-17"))
