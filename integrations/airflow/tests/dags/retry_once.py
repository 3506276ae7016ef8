"""A task that fails on its first try and succeeds on its second."""

import datetime
import os

from airflow.sdk import DAG, task

OUT = os.environ.get("LINEAGE_TEST_OUT", "/tmp")

with DAG("retry_once", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:

    @task(retries=2, retry_delay=datetime.timedelta(seconds=0))
    def flaky(threshold: int = 1):
        marker = f"{OUT}/tried"
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise ConnectionError("the warehouse did not answer (first try)")
        return threshold

    flaky(threshold=7)
