"""Nothing breaks the DAG: the lineage database goes away in the middle of a run."""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

import lineage as ln
import lineage.instance
import psycopg

from airflow_helpers import load_dag
from lineage.lifecycle import guard
from lineage.testing import temporary_instance


def test_the_dag_succeeds_when_the_database_becomes_unreachable(
        airflow_db, lineage_postgres_url, tmp_path, monkeypatch, caplog):
    name = urlsplit(lineage_postgres_url).path.lstrip("/")
    monkeypatch.setenv("AIRFLOW_LINEAGE_TEST_DB", name)
    failures_before = guard.failures.get("airflow", 0)
    caplog.set_level(logging.DEBUG, logger="lineage.airflow")
    try:
        with temporary_instance(tmp_path, db=lineage_postgres_url):
            dag_run = load_dag("unreachable").test()
            assert str(dag_run.state) == "success"
            tis = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
            assert tis == {"before": "success", "cut_off": "success", "after": "success"}
            assert guard.failures["airflow"] > failures_before
            warnings = [r for r in caplog.records
                        if r.name == "lineage.airflow" and r.levelno == logging.WARNING]
            assert warnings, "the first failure is logged"
            # "could not record <what> (<exception type>: ...": once per kind, then DEBUG
            kinds = [r.getMessage().split(":")[0] for r in warnings]
            assert len(kinds) == len(set(kinds)), "each kind of failure is logged once"
            _allow_connections(name)
            lineage.instance.close()  # the broken connection is not reused: connect anew
            runs = {r.entrypoint: r for r in ln.Run.filter(external_source="airflow").all()}
            assert runs["before"].status == "completed"  # recorded while the database was there
            assert "after" not in runs  # its start and end went unrecorded
    finally:
        _allow_connections(name)


def _allow_connections(name: str) -> None:
    with psycopg.connect(os.environ["LINEAGE_TEST_POSTGRES_URL"], autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
