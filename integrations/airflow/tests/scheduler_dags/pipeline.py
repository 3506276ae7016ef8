"""The DAG of the scheduler test: XCom, a retry, a lost task and a killed task."""

import datetime
import os
import signal

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, task

OUT = os.environ.get("LINEAGE_TEST_OUT", "/tmp")


def extract(rows):
    with open(f"{OUT}/data.csv", "w") as f:
        f.write("n\n" + "\n".join(str(i) for i in range(rows)) + "\n")
    return rows


with DAG("pipeline", schedule="@once", start_date=datetime.datetime(2026, 1, 1),
         params={"rows": 5}, render_template_as_native_obj=True) as dag:
    first = PythonOperator(task_id="extract", python_callable=extract,
                           op_kwargs={"rows": "{{ params.rows }}"},
                           outlets=[Asset(f"file://{OUT}/data.csv")])

    @task(retries=1, retry_delay=datetime.timedelta(seconds=0))
    def summarize(rows: int):
        marker = f"{OUT}/summarize-tried"
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("first try of summarize fails")
        return {"rows": rows, "pid": os.getpid()}

    @task
    def vanish():
        """Killed by the kernel (kill -9): its supervisor reports a failure, no hook runs."""
        os.kill(os.getpid(), signal.SIGKILL)

    @task
    def zombie():
        """Its supervisor dies too: no more heartbeats, the scheduler fails it."""
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    summarize(first.output)
    first >> [vanish(), zombie()]
