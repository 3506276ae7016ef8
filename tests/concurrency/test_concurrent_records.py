"""Real concurrent writer processes on one instance (SQLite and PostgreSQL).

Writers are forked processes sharing the instance; nothing is mocked. No
"database is locked" may reach a writer, nothing may be lost silently.
"""

from __future__ import annotations

import pytest

import lineage as ln
from lineage.errors import ConflictError

WRITERS = 8


def _insert_runs(transform_id: int, n: int) -> int:
    for i in range(n):
        ln.Run(transform_id=transform_id, params={"i": i}).save()
    return n


def test_eight_writers_insert_runs_without_lock_errors_or_losses(instance, processes):
    transform = ln.Transform(key="bulk.py", hash="h").save()
    results = processes(_insert_runs, [(transform.id, 200)] * WRITERS)
    assert [status for status, _ in results] == ["ok"] * WRITERS, results
    assert ln.Run.filter(transform=transform).count() == WRITERS * 200


def _edit(uid: str, field: str, value: str, barrier) -> str:
    record = ln.Transform.get(uid)
    barrier.wait(timeout=60)
    setattr(record, field, value)
    try:
        record.save()
    except ConflictError as exc:
        return f"conflict:{','.join(exc.fields)}"
    return "saved"


@pytest.mark.parametrize("attempt", range(5))
def test_disjoint_field_race_keeps_both_changes(instance, processes, fork_barrier, attempt):
    t = ln.Transform(key=f"race{attempt}.py", hash="h", description="d", reference="r").save()
    barrier = fork_barrier(2)
    results = processes(_edit, [(t.uid, "description", "A", barrier), (t.uid, "reference", "B", barrier)])
    assert results == [("ok", "saved"), ("ok", "saved")]
    fresh = ln.Transform.get(t.uid)
    assert (fresh.description, fresh.reference) == ("A", "B")


@pytest.mark.parametrize("attempt", range(5))
def test_same_field_race_first_wins_second_conflicts(instance, processes, fork_barrier, attempt):
    t = ln.Transform(key=f"same{attempt}.py", hash="h", description="d").save()
    barrier = fork_barrier(2)
    results = processes(_edit, [(t.uid, "description", "A", barrier), (t.uid, "description", "B", barrier)])
    outcomes = sorted(value for _, value in results)
    assert outcomes == ["conflict:description", "saved"], results
    winner = "A" if results[0][1] == "saved" else "B"
    assert ln.Transform.get(t.uid).description == winner
    history = ln.RecordChange.filter(registry="Transform", record_uid=t.uid).all()
    assert [h.fields for h in history] == [{"description": winner}]


def _create_project(name: str, barrier) -> int:
    project = ln.Project(name=name)  # nothing of that name yet: a new record
    barrier.wait(timeout=60)
    return project.save().id


def test_writers_creating_one_name_at_once_end_with_one_record(instance, processes, fork_barrier):
    barrier = fork_barrier(WRITERS)
    results = processes(_create_project, [("Race", barrier)] * WRITERS)
    assert [status for status, _ in results] == ["ok"] * WRITERS, results
    assert len({project_id for _, project_id in results}) == 1
    assert ln.Project.filter(name="Race").count() == 1
