"""Two classic operators: extract writes a file, load reads it."""

import datetime
import os

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, Param

OUT = os.environ.get("LINEAGE_TEST_OUT", "/tmp")


def extract(rows, sep=","):
    with open(f"{OUT}/table.csv", "w") as f:
        f.write("\n".join(sep.join(str(i) for i in range(3)) for _ in range(rows)))


def load(path):
    with open(path) as f:
        return len(f.read().splitlines())


with DAG("two_tasks", schedule=None, start_date=datetime.datetime(2026, 1, 1),
         render_template_as_native_obj=True,
         params={"rows": Param(4, type="integer")}) as dag:
    first = PythonOperator(task_id="extract", python_callable=extract,
                           op_args=["{{ params.rows }}"], op_kwargs={"sep": ";"},
                           outlets=[Asset(f"file://{OUT}/table.csv")])
    second = PythonOperator(task_id="load", python_callable=load,
                            op_kwargs={"path": f"{OUT}/table.csv"},
                            inlets=[Asset(f"file://{OUT}/table.csv")])
    first >> second
