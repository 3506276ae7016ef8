"""Run bookkeeping written as single statements, and uids drawn without system calls."""

from __future__ import annotations

import os
import sqlite3

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.db import uids


def _statements(instance):
    """Every statement the instance's SQLite connection runs from now on, upper-cased."""
    if instance.db.dialect.name != "sqlite":
        pytest.skip("traces SQLite statements")
    seen = []
    instance.db.connection().raw.set_trace_callback(lambda sql: seen.append(sql.strip().upper()))
    return seen


def _writes(seen):
    return [s for s in seen if s.startswith(("BEGIN", "COMMIT", "INSERT", "UPDATE", "DELETE"))]


@pytest.fixture
def transform(instance):
    return lifecycle.get_or_create_transform("pipeline.py", "def main(): ...", "pipeline")


def test_a_run_without_links_starts_and_finishes_in_two_statements(instance, transform):
    seen = _statements(instance)
    run = lifecycle.start_run(transform, environment=False)
    lifecycle.finish_run(run)
    writes = _writes(seen)
    assert len(writes) == 2, writes
    assert writes[0].startswith("INSERT INTO RUN") and writes[1].startswith("UPDATE RUN")
    # Committed by the statements themselves: another connection sees both.
    other = sqlite3.connect(instance.db.sqlite_path)
    assert other.execute("SELECT status FROM run WHERE id = ?", [run.id]).fetchone() == ("completed",)
    other.close()


def test_the_write_lock_is_free_as_soon_as_the_statement_returns(instance, transform):
    if instance.db.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    run = lifecycle.start_run(transform, environment=False)
    other = sqlite3.connect(instance.db.sqlite_path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # "database is locked" if the INSERT were still open
    other.execute("ROLLBACK")
    lifecycle.finish_run(run)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_run_with_links_keeps_one_transaction(instance, transform, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("input")
    artifact = ln.Artifact(source, key="in.txt").save()
    seen = _statements(instance)
    run = lifecycle.start_run(transform, environment=False, inputs=[artifact])
    writes = _writes(seen)
    assert writes[0] == "BEGIN IMMEDIATE" and writes[-1] == "COMMIT", writes
    assert [a.id for a in run.input_artifacts] == [artifact.id]


def test_an_engine_run_seen_twice_is_one_row(instance, transform):
    seen = _statements(instance)
    first = lifecycle.engine_run(transform, external_source="prefect", external_id="t-1",
                                 environment=False)
    writes = _writes(seen)
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO RUN"), writes  # one INSERT
    del seen[:]
    again = lifecycle.engine_run(transform, external_source="prefect", external_id="t-1",
                                 status="completed", environment=False)
    assert "BEGIN IMMEDIATE" in seen  # the stored attempt is updated in a transaction
    # The INSERT that conflicted is not tried again inside that transaction.
    assert sum(s.startswith("INSERT INTO RUN ") for s in seen) == 1, seen
    assert again.id == first.id and again.status == "completed"
    assert ln.Run.filter(external_source="prefect", external_id="t-1").count() == 1
    assert type(again) is ln.Run


def test_an_engine_run_seen_twice_on_postgresql_is_one_row_with_the_later_status(instance, transform):
    if instance.db.dialect.name == "sqlite":
        pytest.skip("PostgreSQL path")
    first = lifecycle.engine_run(transform, external_source="prefect", external_id="t-2")
    again = lifecycle.engine_run(transform, external_source="prefect", external_id="t-2",
                                 status="errored", error="boom")
    assert again.id == first.id
    stored = ln.Run.filter(external_source="prefect", external_id="t-2").one()
    assert (stored.status, stored.error) == ("errored", "boom")


def test_a_forked_child_draws_other_uids_than_its_parent():
    uids.random_base62(12)  # the generator exists before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next uid and leave at once
        os.write(write, uids.random_base62(12).encode())
        os._exit(0)
    os.close(write)
    mine = uids.random_base62(12)
    theirs = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(theirs) == 12 and theirs != mine


def test_uids_are_base62_of_the_asked_length_and_differ():
    drawn = {uids.random_base62(16) for _ in range(10_000)}
    assert len(drawn) == 10_000
    assert all(len(u) == 16 and set(u) <= set(uids.ALPHABET) for u in drawn)


def test_uids_map_random_bytes_evenly_and_draw_again_for_the_few_left_over(monkeypatch):
    drawn = iter([bytes([255, 248, 0, 61, 62, 247]) + bytes(range(248, 256)),
                  bytes(range(14)) + bytes([250] * 8)])

    class Generator:
        def randbytes(self, n: int) -> bytes:
            return next(drawn)

    monkeypatch.setattr(uids, "_random", Generator)
    # 255 and 248 are left over; 0, 62 -> "0", 61, 247 -> "z"; then a second draw
    assert uids.random_base62(16) == "0z0z" + uids.ALPHABET[:12]
