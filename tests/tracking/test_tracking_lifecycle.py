"""The run-lifecycle interface that track(), flows, steps and integrations share."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.capture.environment import capture_environment
from lineage.context import current_run


def test_same_source_same_transform_new_source_new_version(instance) -> None:
    first = lifecycle.get_or_create_transform("train.py", "print(1)\n", "script")
    again = lifecycle.get_or_create_transform("train.py", "print(1)\n", "script")
    second = lifecycle.get_or_create_transform("train.py", "print(2)\n", "script")

    assert again.id == first.id
    assert (first.version, second.version) == (1, 2)
    assert second.uid[:12] == first.uid[:12] and second.uid != first.uid
    assert ln.Transform.get(first.id).is_latest is False
    assert ln.Transform.get(second.id).is_latest is True
    assert ln.Transform.get(key="train.py") == second  # get() means the latest version
    lifecycle.clear_caches()  # a fresh process: back to the first source
    back = lifecycle.get_or_create_transform("train.py", "print(1)\n", "script")
    assert back.id == first.id and ln.Transform.get(second.id).is_latest


def test_concurrent_new_versions_keep_one_latest(instance) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def create(i: int) -> None:
        try:
            barrier.wait()
            lifecycle.get_or_create_transform("race.py", f"print({i})\n", "script")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    versions = ln.Transform.filter(key="race.py").order_by("version").all()
    assert [t.version for t in versions] == [1, 2, 3, 4, 5, 6]
    assert sum(t.is_latest for t in versions) == 1 and versions[-1].is_latest
    assert len({t.uid[:12] for t in versions}) == 1


def test_environment_row_is_shared(instance, tmp_path) -> None:
    first = lifecycle.ensure_environment()
    assert lifecycle.ensure_environment() == first
    lifecycle.clear_caches()  # as another process would
    assert lifecycle.ensure_environment() == first
    rows = ln.Environment.filter().all()
    assert len(rows) == 1 and rows[0].hash == capture_environment().hash
    assert rows[0].packages == capture_environment().packages


def test_start_and_finish_run(instance) -> None:
    transform = lifecycle.get_or_create_transform("engine.py", "x = 1\n", "prefect")
    run = lifecycle.start_run(transform, params={"a": {"b": 1}}, external_id="task-9",
                              external_source="prefect", cli_args=["engine"], name="task 9")
    stored = ln.Run.get(run.uid)
    assert (stored.status, stored.external_id, stored.external_source) == ("started", "task-9", "prefect")
    assert stored.params == {"a": {"b": 1}} and stored.cli_args == ["engine"]
    assert stored.environment_id == lifecycle.ensure_environment()
    assert stored.created_by_id == instance.user_id()
    assert run in lifecycle.active_runs()

    assert lifecycle.finish_run(run, "errored", "Traceback ...\nValueError: x") is True
    assert lifecycle.finish_run(run, "completed") is False  # the first ending stays
    stored.refresh()
    assert stored.status == "errored" and stored.error.endswith("ValueError: x")
    assert stored.finished_at is not None
    assert run.status == "errored" and run not in lifecycle.active_runs()
    run.name = "renamed"
    run.save()  # the snapshot stayed consistent: a later save does not conflict
    assert ln.Run.get(run.uid).name == "renamed"
    with pytest.raises(ln.errors.ValidationError, match="status"):
        lifecycle.finish_run(run, "done")


def test_error_text_is_redacted(instance) -> None:
    transform = lifecycle.get_or_create_transform("leak.py", "", "script")
    run = lifecycle.start_run(transform)
    try:
        raise ConnectionError("cannot reach https://bob:hunter2@db.example.com/x")
    except ConnectionError as exc:
        lifecycle.finish_run(run, "errored", exc)
    error = ln.Run.get(run.uid).error
    assert "ConnectionError" in error and "db.example.com" in error and "hunter2" not in error


def test_parent_from_argument_context_and_environment(instance, monkeypatch) -> None:
    transform = lifecycle.get_or_create_transform("parents.py", "", "script")
    root = lifecycle.start_run(transform)
    explicit = lifecycle.start_run(transform, parent=root)
    assert explicit.initiated_by_run_id == root.id

    activation = lifecycle.activate(root)
    try:
        assert lifecycle.start_run(transform).initiated_by_run_id == root.id
        assert lifecycle.start_run(transform, inherit_parent=False).initiated_by_run_id is None
        assert current_run() is root
    finally:
        lifecycle.deactivate(activation)
    assert lifecycle.PARENT_ENV not in os.environ

    lifecycle.finish_run(root)
    monkeypatch.setenv(lifecycle.PARENT_ENV, root.uid)  # as in a child process
    assert lifecycle.start_run(transform).initiated_by_run_id == root.id
    monkeypatch.setenv(lifecycle.PARENT_ENV, "unknownuid000000")  # another instance's run
    assert lifecycle.start_run(transform).initiated_by_run_id is None
    lifecycle.abort_active_runs("test over")


def test_projects_are_linked_and_inherited(instance) -> None:
    transform = lifecycle.get_or_create_transform("projects.py", "", "flow")
    existing = ln.Project(name="Existing").save()
    parent = lifecycle.start_run(transform, projects=["Created", existing])
    created = ln.Project.get(name="Created")
    assert lifecycle.run_project_ids(parent) == [created.id, existing.id]
    child = lifecycle.start_run(transform, parent=parent)
    assert lifecycle.run_project_ids(child) == [created.id, existing.id]

    fresh = ln.Run.get(child.uid)  # loaded from the database, not cached
    assert sorted(lifecycle.run_project_ids(fresh)) == sorted([created.id, existing.id])
    assert {r.uid for r in created.runs} == {parent.uid, child.uid}
    assert [t.key for t in existing.transforms] == ["projects.py"]
    with pytest.raises(ln.errors.ValidationError, match="project"):
        lifecycle.start_run(transform, projects=[3.5])
    lifecycle.abort_active_runs("test over")


def test_features_validated_before_writing(instance) -> None:
    ln.Feature(name="experiment", dtype=str).save()
    transform = lifecycle.get_or_create_transform("features.py", "", "script")
    with pytest.raises(ln.errors.ValidationError, match="'nope'"):
        lifecycle.start_run(transform, features={"nope": 1})
    assert ln.Run.filter().count() == 0
    run = lifecycle.start_run(transform, features={"experiment": "E1"})
    assert run.features.get_values() == {"experiment": "E1"}
    assert ln.Run.filter(experiment="E1").one() == run
    lifecycle.finish_run(run)


@pytest.mark.parametrize(("exc", "status"), [
    (None, "completed"),
    (ValueError("x"), "errored"),
    (KeyboardInterrupt(), "aborted"),
    (SystemExit(0), "completed"),
    (SystemExit(2), "errored"),
    (asyncio.CancelledError(), "aborted"),
])
def test_status_for(exc: BaseException | None, status: str) -> None:
    assert lifecycle.status_for(exc) == status


def test_abort_active_runs_only_touches_this_process(instance) -> None:
    transform = lifecycle.get_or_create_transform("abort.py", "", "script")
    mine = lifecycle.start_run(transform)
    inherited = lifecycle.start_run(transform)
    inherited._assign(pid=-1)  # as if started by the parent before a fork
    finished = lifecycle.abort_active_runs("shutting down")
    assert finished == [mine]
    assert ln.Run.get(mine.uid).status == "aborted"
    assert ln.Run.get(inherited.uid).status == "started"
    lifecycle.runs._active.pop(inherited.id)
