"""TaskFlow tasks passing values through XCom, one of them mapped."""

import datetime

from airflow.sdk import DAG, task

with DAG("taskflow", schedule=None, start_date=datetime.datetime(2026, 1, 1),
         params={"factor": 3}) as dag:

    @task
    def extract():
        return {"a": 1, "b": 2}

    @task
    def transform(data: dict, factor: int = 2):
        return sum(data.values()) * factor

    @task
    def numbers():
        return [1, 2, 3]

    @task
    def square(x: int):
        return x * x

    @task
    def total(result: int, squares):
        return result + sum(squares)

    total(transform(extract(), factor=5), square.expand(x=numbers()))
