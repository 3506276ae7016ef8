"""A task writes an S3 object (an outlet); a tracked script run by the next task reads it."""

import datetime
import os
import sys

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, task

BUCKET = os.environ.get("LINEAGE_TEST_BUCKET", "bucket")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "scripts", "read_s3.py")

with DAG("s3_handoff", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:

    @task(outlets=[Asset(f"s3://{BUCKET}/rows.csv"), Asset(f"s3://{BUCKET}/not-yet.csv")])
    def produce():
        import boto3

        boto3.client("s3").put_object(Bucket=BUCKET, Key="rows.csv", Body=b"x\n1\n2\n3\n")

    produce() >> BashOperator(
        task_id="count", bash_command=f"{sys.executable} {SCRIPT} s3://{BUCKET}/rows.csv",
        inlets=[Asset(f"s3://{BUCKET}/rows.csv")])
