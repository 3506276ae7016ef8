"""Arguments rendered from a connection's password and a secret variable."""

import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def connect(host, credential, api):
    return host


with DAG("secrets", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    PythonOperator(task_id="connect", python_callable=connect,
                   op_kwargs={"host": "{{ conn.warehouse.host }}",
                              "credential": "{{ conn.warehouse.password }}",
                              "api": "{{ var.value.service_api_key }}"})
