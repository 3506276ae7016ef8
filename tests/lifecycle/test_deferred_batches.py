"""Deferred task runs that ended, written in batches (`lineage.lifecycle.deferred`)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.lifecycle import deferred, guard

from deferred_support import (child_env, deferred_task, flow_run, stored_run, workflow,
                              write_transactions)

__all__ = ["flow_run", "workflow"]  # fixtures


@pytest.fixture
def held_batches(monkeypatch):
    """Batches wait until something asks for them (no background write in the test)."""
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 3600.0)


def test_runs_that_end_together_are_written_in_one_transaction(workflow, flow_run, instance,
                                                               held_batches):
    writes = write_transactions(instance)
    tasks = []
    for n in range(5):
        tasks.append(deferred_task(workflow, flow_run, f"task-{n}", params={"n": n},
                           upstream=tasks[-1:]))
    for task in tasks:
        assert lifecycle.finish_run(task, "completed") is True
    assert writes == [] and all(deferred.is_pending(t) for t in tasks)
    stored = [stored_run(f"task-{n}") for n in range(5)]  # the first read writes the batch
    assert len(writes) == 1
    assert [s.status for s in stored] == ["completed"] * 5
    assert [s.params for s in stored] == [{"n": n} for n in range(5)]
    assert [[u.uid for u in s.upstream_runs] for s in stored] == [
        [], *([t.uid] for t in tasks[:4])]
    assert [t.id for t in tasks] == [s.id for s in stored] and type(tasks[0]) is ln.Run


def test_a_run_ended_before_its_upstream_run_keeps_the_link(workflow, flow_run, held_batches):
    first = deferred_task(workflow, flow_run, "task-1")
    second = deferred_task(workflow, flow_run, "task-2", upstream=[first])
    lifecycle.finish_run(second, "completed")  # queued before the run it links to
    lifecycle.finish_run(first, "errored", "ValueError: late")
    assert [u.uid for u in stored_run("task-2").upstream_runs] == [first.uid]
    assert stored_run("task-1").status == "errored"


def test_a_flow_run_ends_after_its_task_runs_are_written(workflow, flow_run, held_batches):
    task = deferred_task(workflow, flow_run)
    lifecycle.finish_run(task, "completed")
    assert deferred.is_pending(task)
    lifecycle.finish_run(flow_run, "completed")  # not deferred: what waits is written first
    assert not deferred.is_pending(task)
    assert stored_run("task-1").status == "completed"


def test_reading_the_id_of_a_run_that_ended_writes_its_batch(workflow, flow_run, held_batches):
    task = deferred_task(workflow, flow_run)
    other = deferred_task(workflow, flow_run, "task-2")
    lifecycle.finish_run(task, "completed")
    lifecycle.finish_run(other, "completed")
    assert task.id is not None  # an artifact, a step or a link needs it
    assert not deferred.is_pending(other)  # written in the same batch
    assert stored_run("task-2").status == "completed"


_CHILD = """
import os
from lineage import lifecycle
from lineage.lifecycle import deferred
deferred.BATCH_SECONDS = 3600.0  # were it batched, it would wait
workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
flow = lifecycle.find_engine_run("prefect", "flow-1")
task = lifecycle.engine_run(workflow, external_source="prefect", external_id={name!r},
                            parent=flow.id, defer=True)
lifecycle.finish_run(task, "completed")
os._exit(0)  # a pool worker may end without exit handlers
"""


def test_a_multiprocessing_child_writes_a_run_when_it_ends(flow_run, instance, monkeypatch):
    for name, value in child_env(instance).items():
        if name.startswith("LINEAGE_"):
            monkeypatch.setenv(name, value)
    child = multiprocessing.get_context("spawn").Process(
        target=exec, args=(_CHILD.format(name="in-a-worker"),))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert stored_run("in-a-worker").status == "completed"


def test_a_forked_child_writes_a_run_when_it_ends(flow_run, instance):
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            exec(_CHILD.format(name="in-a-fork"))
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert stored_run("in-a-fork").status == "completed"


#: ``ioctl`` requests and the flag that ``chattr +i`` sets (linux/fs.h).
_GET_FLAGS, _SET_FLAGS, _IMMUTABLE = 0x80086601, 0x40086602, 0x10


def _immutable(path: Path, on: bool) -> None:
    """``chattr +i`` / ``-i`` without starting a process (which would write the batch first)."""
    import array
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(fd, _GET_FLAGS, flags, True)
        flags[0] = flags[0] | _IMMUTABLE if on else flags[0] & ~_IMMUTABLE
        fcntl.ioctl(fd, _SET_FLAGS, flags)
    finally:
        os.close(fd)


def test_a_batch_that_cannot_be_written_waits_for_the_next(workflow, flow_run, instance,
                                                          held_batches, caplog, monkeypatch):
    if instance.db.dialect.name != "sqlite":
        pytest.skip("makes the SQLite file immutable")
    from lineage.instance import DB_FILE

    database = Path(instance.root) / DB_FILE
    # The database and its write-ahead log; not the -shm file, which SQLite has
    # memory-mapped (a write to an immutable mapped page is SIGBUS).
    files = [database, database.with_name(database.name + "-wal")]
    task = deferred_task(workflow, flow_run)
    lifecycle.finish_run(task, "completed")
    monkeypatch.setattr(guard, "_reported", set())  # the once-per-kind memory, empty
    monkeypatch.setattr(guard, "failures", {})
    for path in files:
        _immutable(path, True)
    try:
        with caplog.at_level(logging.DEBUG, logger="lineage.lifecycle"):
            for _ in range(2):  # each from a thread of its own: a connection opened now
                writer = threading.Thread(target=deferred.flush_quietly)
                writer.start()
                writer.join()
    finally:
        for path in files:
            _immutable(path, False)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "read-only" in warnings[0].getMessage()  # logged once
    assert guard.failures["lifecycle"] == 2 and deferred.is_pending(task)
    assert stored_run("task-1").status == "completed"  # the next read writes it
    assert not deferred.is_pending(task)


def _ended_task(name: str):
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    flow = lifecycle.engine_run(workflow, external_source="prefect", external_id=f"flow-{name}")
    task = lifecycle.engine_run(workflow, external_source="prefect", external_id=name,
                                parent=flow, defer=True)
    lifecycle.finish_run(task, "completed")
    return task


def test_an_unwritable_database_holds_back_its_own_runs_only(tmp_path, held_batches):
    from lineage.instance import DB_FILE
    from lineage.testing import temporary_instance

    with temporary_instance(tmp_path / "a") as first:
        stuck = _ended_task("in-a")
        database = Path(first.root) / DB_FILE
        first.db.before_close = None  # closing would write it (tests/db/test_close.py)
    with temporary_instance(tmp_path / "b"):
        fine = _ended_task("in-b")
        wal = database.with_name(database.name + "-wal")  # gone once its instance closed
        files = [database, *([wal] if wal.exists() else [])]
        for path in files:
            _immutable(path, True)
        try:
            writer = threading.Thread(target=deferred.flush_quietly)  # a connection opened now
            writer.start()
            writer.join()
        finally:
            for path in files:
                _immutable(path, False)
        assert deferred.is_pending(stuck) and not deferred.is_pending(fine)
        assert stored_run("in-b").status == "completed"
        deferred.write_all()
        assert not deferred.is_pending(stuck)


def _statements(instance):
    """The INSERT statements the instance's connection runs from now on, by table (SQLite)."""
    if instance.db.dialect.name != "sqlite":
        pytest.skip("counts SQLite statements")
    raw = instance.db.connection().raw
    tables: list[str] = []
    raw.set_trace_callback(lambda sql: tables.append(sql.split()[2])
                           if sql.lstrip().upper().startswith("INSERT INTO") else None)
    return tables


def test_a_batch_inserts_its_runs_and_their_links_in_one_statement_per_table(
        workflow, flow_run, instance, held_batches, tmp_path):
    artifact = ln.Artifact(_file(tmp_path), key="in.txt").save()
    tasks = [deferred_task(workflow, flow_run, "earlier")]
    lifecycle.finish_run(tasks[0], "completed")
    deferred.flush()
    for n in range(32):  # a power of two: one statement per table (see the next test)
        tasks.append(deferred_task(workflow, flow_run, f"task-{n}", upstream=tasks[-1:],
                                   inputs=[artifact]))
        lifecycle.finish_run(tasks[-1], "completed")
    inserts = _statements(instance)
    deferred.flush()
    assert sorted(inserts) == ["run", "run_input", "run_upstream"]
    stored = [stored_run(f"task-{n}") for n in range(32)]
    assert [[u.uid for u in s.upstream_runs] for s in stored] == [[t.uid] for t in tasks[:32]]
    assert all([a.uid for a in s.input_artifacts] == [artifact.uid] for s in stored)
    assert [t.id for t in tasks[1:]] == [s.id for s in stored]


def test_a_run_of_the_batch_another_process_wrote_keeps_its_links_both_ways(
        workflow, flow_run, held_batches):
    first = deferred_task(workflow, flow_run, "task-1", entrypoint="extract")
    middle = deferred_task(workflow, flow_run, "task-2", upstream=[first])
    last = deferred_task(workflow, flow_run, "task-3", upstream=[middle])
    other = lifecycle.engine_run(workflow, external_source="prefect", external_id="task-2",
                                 parent=flow_run)  # as another process records it
    for task in (last, middle, first):  # the downstream run ends first
        lifecycle.finish_run(task, "completed")
    deferred.flush()
    stored = {n: stored_run(f"task-{n}") for n in (1, 2, 3)}
    assert ln.Run.filter(external_source="prefect", external_id="task-2").count() == 1
    assert middle.id == other.id == stored[2].id and stored[2].status == "completed"
    assert [u.uid for u in stored[2].upstream_runs] == [first.uid]
    assert [u.id for u in stored[3].upstream_runs] == [other.id]
    assert all(s.status == "completed" for s in stored.values())


def _file(folder: Path) -> Path:
    path = folder / "in.txt"
    path.write_text("input\n")
    return path


def test_a_batch_of_any_size_takes_statements_of_a_few_sizes(workflow, flow_run, held_batches,
                                                             monkeypatch):
    from lineage.db.database import Connection

    rows: list[int] = []  # runs per INSERT INTO run
    execute = Connection.execute

    def recording(self, sql, params=()):
        if sql.startswith("INSERT INTO run ("):
            rows.append(sql.count("), (") + 1)
            assert "COALESCE" not in sql  # the parent's space is known: no lookup per row
        return execute(self, sql, params)

    monkeypatch.setattr(Connection, "execute", recording)
    tasks = []
    for n in range(30):
        tasks.append(deferred_task(workflow, flow_run, f"task-{n}", upstream=tasks[-1:]))
        lifecycle.finish_run(tasks[-1], "completed")
    deferred.flush()
    # Each size is one statement text, compiled once and then found in the driver's cache.
    assert rows == [16, 8, 4, 2]
    stored = [stored_run(f"task-{n}") for n in range(30)]
    assert [[u.uid for u in s.upstream_runs] for s in stored] == [
        [], *([t.uid] for t in tasks[:29])]


def test_a_batch_run_whose_parent_is_known_by_id_only_goes_to_the_parents_space(
        workflow, held_batches, monkeypatch):
    from lineage.lifecycle import runs

    monkeypatch.setattr(runs, "_active", {})  # the parent ran in another process
    lifecycle.create_space("team")
    in_team = lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-1",
                                   space="team")
    elsewhere = lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-2")
    by_id = deferred_task(workflow, in_team.id, "task-by-id")
    by_run = deferred_task(workflow, elsewhere, "task-by-run")
    for task in (by_id, by_run):
        lifecycle.finish_run(task, "completed")
    deferred.flush()
    assert stored_run("task-by-id").space_id == in_team.space_id != elsewhere.space_id
    assert stored_run("task-by-run").space_id == elsewhere.space_id
