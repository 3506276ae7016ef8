"""An operator with outlets, and hook lineage through ObjectStoragePath."""

import datetime
import os

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, ObjectStoragePath, task

OUT = os.environ.get("LINEAGE_TEST_OUT", "/tmp")

with DAG("assets", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    write = BashOperator(
        task_id="write", bash_command=f"printf 'id,amount\\n1,5\\n' > {OUT}/raw.csv",
        outlets=[Asset(f"file://{OUT}/raw.csv"), Asset("s3://bucket/never-written.csv")])

    @task
    def convert():
        source = ObjectStoragePath(f"file://{OUT}/raw.csv")
        target = ObjectStoragePath(f"file://{OUT}/clean.csv")
        with source.open("r") as f:
            text = f.read()
        with target.open("w") as f:
            f.write(text.upper())

    write >> convert()
