"""A PostgreSQL connection the server closed is replaced, never reused.

The fault is real: the server terminates the backend of our connection
(``pg_terminate_backend``), as a restart or an idle-connection killer does.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

import lineage as ln
from lineage.instance import current_instance


def _terminate_our_backends(url: str) -> int:
    """Terminate every other backend connected to the database of `url`; their count."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.fixture
def pg(postgres_server, fresh_postgres_db, tmp_path):
    yield ln.init(db=fresh_postgres_db, storage=tmp_path / "storage"), fresh_postgres_db


def test_writes_and_reads_go_on_after_the_server_closed_the_connection(pg):
    instance, url = pg
    ln.Project(name="before").save()
    assert _terminate_our_backends(url) >= 1
    ln.Project(name="after").save()  # a write on a new connection
    assert sorted(p.name for p in ln.Project.filter()) == ["after", "before"]
    assert _terminate_our_backends(url) >= 1
    assert ln.Project.get(name="before").name == "before"  # a read too


def test_each_thread_replaces_only_its_own_closed_connection(pg):
    instance, url = pg
    ln.Project(name="main").save()
    _terminate_our_backends(url)
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            ln.Project(name="worker").save()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert errors == []
    assert ln.Project.filter(name="worker").count() == 1
    db = current_instance().db
    assert all(not raw.closed for raw in db._all), "closed connections are forgotten"
