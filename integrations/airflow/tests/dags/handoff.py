"""An Airflow task writes a file; a tracked script run by the next task reads it."""

import datetime
import os
import sys

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, task

OUT = os.environ.get("LINEAGE_TEST_OUT", "/tmp")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "scripts", "count_rows.py")

with DAG("handoff", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:

    @task(outlets=[Asset(f"file://{OUT}/rows.csv")])
    def produce():
        with open(f"{OUT}/rows.csv", "w") as f:
            f.write("x\n1\n2\n3\n")

    produce() >> BashOperator(task_id="count",
                              bash_command=f"{sys.executable} {SCRIPT} {OUT}/rows.csv")
