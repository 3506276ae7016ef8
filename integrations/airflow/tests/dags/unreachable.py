"""The lineage database becomes unreachable in the middle of this DAG run."""

import datetime
import os

from airflow.sdk import DAG, task

with DAG("unreachable", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:

    @task
    def before():
        return 1

    @task
    def cut_off(value):
        """Refuse new connections to the lineage database and end the open ones."""
        import psycopg

        name = os.environ["AIRFLOW_LINEAGE_TEST_DB"]
        with psycopg.connect(os.environ["LINEAGE_TEST_POSTGRES_URL"], autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        return value + 1

    @task(retries=1, retry_delay=datetime.timedelta(seconds=0))
    def after(value):
        return value + 1

    after(cut_off(before()))
