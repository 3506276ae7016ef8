"""A task with S3 inlets and outlets that touches no S3 itself."""

import datetime
import os

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset

BUCKET = os.environ.get("LINEAGE_TEST_BUCKET", "bucket")

with DAG("s3_outlets", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    BashOperator(task_id="publish", bash_command="true",
                 inlets=[Asset(f"s3://{BUCKET}/in.csv")],
                 outlets=[Asset(f"s3://{BUCKET}/a.csv"), Asset(f"s3://{BUCKET}/b.csv")])
