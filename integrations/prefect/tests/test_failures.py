"""Lineage never breaks a Prefect flow: an unreachable store is logged once, the flow goes on."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import psycopg
import pytest

import lineage as ln
from lineage.lifecycle import deferred, guard
from lineage.testing import temporary_instance
import pipelines


@pytest.fixture
def fresh_reports(monkeypatch):
    """The guard's once-per-kind memory, empty for this test."""
    monkeypatch.setattr(guard, "_reported", set())
    monkeypatch.setattr(guard, "failures", {})


def warnings_of(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "lineage.prefect" and r.levelno >= logging.WARNING]


def test_postgres_unreachable_mid_flow(prefect_server, lineage_postgres_url, tmp_path, caplog,
                                       fresh_reports):
    admin_url = lineage_postgres_url.rsplit("/", 1)[0] + "/postgres"
    database = lineage_postgres_url.rsplit("/", 1)[1]

    def disallow_connections() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", [database])

    with temporary_instance(tmp_path, db=lineage_postgres_url):
        pipelines.mid_flow[:] = [disallow_connections]
        try:
            with caplog.at_level(logging.DEBUG, logger="lineage.prefect"):
                assert pipelines.cut_off(3) == 6  # the flow's result is unchanged
        finally:
            pipelines.mid_flow.clear()
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        (warning,) = warnings_of(caplog)  # logged once, not once per hook
        assert "the pipeline goes on" in warning.getMessage()
        # The flow's end failed in a hook; the task runs' ends waited for their batch.
        assert guard.failures["prefect"] >= 1
        # What was written before the cut is there; nothing after it. (A new
        # connection: the terminated ones of this process stay closed.)
        import lineage.instance

        lineage.instance.close()
        ln.connect(lineage_postgres_url)
        (flow_run,) = ln.Run.filter(entrypoint="cut_off")
        assert flow_run.status == "started"  # its finish was lost with the database
        # Task runs are written once, at their end (`engine_run(defer=True)`); those that
        # ended while the database refused connections are still pending, and are
        # written when it is back (by the background writer, or at exit as here).
        deferred.write_all()
        (hand_over,) = ln.Run.filter(entrypoint="hand_over")
        totals = ln.Run.filter(entrypoint="total")
        assert [hand_over.status, *(r.status for r in totals)] == ["completed"] * 3
        assert {r.initiated_by_run_id for r in [hand_over, *totals]} == {flow_run.id}


def test_sqlite_file_made_immutable_mid_flow(instance, caplog, fresh_reports):
    from lineage.instance import DB_FILE

    database = Path(instance.root) / DB_FILE
    assert database.is_file()
    frozen: list[Path] = []

    def freeze() -> None:
        # The database and its write-ahead log; not the -shm file, which SQLite
        # has memory-mapped (a write to an immutable mapped page is SIGBUS).
        for path in [database, database.with_name(database.name + "-wal")]:
            subprocess.run(["chattr", "+i", str(path)], check=True)
            frozen.append(path)

    pipelines.mid_flow[:] = [freeze]
    try:
        with caplog.at_level(logging.DEBUG, logger="lineage.prefect"):
            assert pipelines.cut_off(4) == 12
    finally:
        pipelines.mid_flow.clear()
        for path in frozen:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    (warning,) = warnings_of(caplog)
    assert "lineage-prefect could not record Prefect runs" in warning.getMessage()
    assert guard.failures["prefect"] >= 2  # the ends of `hand_over` and of the flow
    (flow_run,) = ln.Run.filter(entrypoint="cut_off")
    assert flow_run.status == "started"  # its finish was refused, as the file was immutable
    # `hand_over` was written as started before it ran `chattr` (a process it started), so
    # its end was an update, refused like the flow's. The task runs that ended later waited
    # for their batch: they are written once the file can be written again (here before
    # the first read), with their own ends.
    (hand_over,) = ln.Run.filter(entrypoint="hand_over")
    assert hand_over.status == "started"
    totals = ln.Run.filter(entrypoint="total")
    assert [r.status for r in totals] == ["completed"] * 2
    assert {r.initiated_by_run_id for r in [hand_over, *totals]} == {flow_run.id}
    assert all(hand_over.uid in {u.uid for u in r.upstream_runs} for r in totals)
