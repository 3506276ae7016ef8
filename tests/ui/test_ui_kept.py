"""The runs table keeps page orders until the store changes, and never shows a stale one.

Real stores (SQLite and PostgreSQL); writes through the record layer, a
rolled-back transaction and another process with its own driver.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import lineage as ln

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def runs(instance: Any) -> list[Any]:
    """Five runs with params lr 0.0 .. 0.4, every kept page forgotten."""
    from lineage.ui.read.runs_table import RUN_ORDERS

    RUN_ORDERS.clear()
    transform = ln.Transform(key="kept.py", hash=hashlib.sha256(b"k").hexdigest(),
                             source_code="pass").save()
    return [ln.Run(transform_id=transform.id, entrypoint="main", status="completed",
                   started_at=T0 + timedelta(minutes=i), params={"lr": i / 10}).save()
            for i in range(5)]


def _top(sort: str = "-params.lr", **options: Any) -> list[str]:
    from lineage.ui.read.runs_table import RunQuery, runs_page

    return [r["uid"] for r in runs_page(RunQuery(sort=sort, limit=3, **options))["runs"]]


def _count(**options: Any) -> int:
    from lineage.ui.read.runs_table import RunQuery, runs_page

    return runs_page(RunQuery(**options))["total"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_new_run_shows_at_once(runs: list[Any]) -> None:
    assert _top() == [r.uid for r in runs[4:1:-1]]
    assert _top() == [r.uid for r in runs[4:1:-1]]  # kept
    newest = ln.Run(transform_id=runs[0].transform_id, entrypoint="main", status="completed",
                    started_at=T0, params={"lr": 0.9}).save()
    assert _top()[0] == newest.uid
    assert _count(where="params.lr > 0.25") == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_an_edited_param_reorders_the_page(runs: list[Any], instance: Any) -> None:
    assert _top()[0] == runs[4].uid
    instance.db.write(lambda conn: conn.execute(
        "UPDATE run SET params = ? WHERE id = ?",
        [conn.dialect.encode("json", {"lr": 5.0}), runs[0].id]))
    assert _top()[0] == runs[0].uid


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_rolled_back_write_leaves_the_page(runs: list[Any], instance: Any) -> None:
    before = _top()

    def fail(conn: Any) -> None:
        conn.execute("DELETE FROM run WHERE id = ?", [runs[4].id])
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        instance.db.write(fail)
    assert _top() == before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_write_by_another_process_shows(runs: list[Any], instance: Any, backend: str) -> None:
    assert _count(status=["errored"]) == 0
    assert _top()[0] == runs[4].uid
    db = instance.db
    if backend == "sqlite":
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute(\"UPDATE run SET status = 'errored', params = '{\\\"lr\\\": 9}' "
                "WHERE uid = ?\", [sys.argv[2]]); c.commit()")
        target = str(db.sqlite_path)
    else:
        code = ("import psycopg, sys; c = psycopg.connect(sys.argv[1], autocommit=True); "
                "c.execute(\"UPDATE run SET status = 'errored', params = '{\\\"lr\\\": 9}' "
                "WHERE uid = %s\", [sys.argv[2]])")
        target = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
    subprocess.run([sys.executable, "-c", code, target, runs[1].uid], check=True)
    assert _count(status=["errored"]) == 1
    assert _top()[0] == runs[1].uid


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_repeated_page_reads_its_order_once(runs: list[Any]) -> None:
    # SQLite only: PostgreSQL's stamp moves with writes anywhere on the server (other suites).
    from lineage.ui.read.runs_table import RUN_ORDERS

    _top()
    kept = dict(RUN_ORDERS._answers)
    assert len(kept) == 1
    _top()
    _top(sort="params.lr")
    assert len(RUN_ORDERS._answers) == 2 and set(kept) <= set(RUN_ORDERS._answers)
