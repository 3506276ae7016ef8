"""Run observers: told once per start and finish, isolated from the run; reference artifacts."""

from __future__ import annotations

import logging

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import ValidationError
from lineage.lifecycle import observers


@pytest.fixture
def seen(instance):
    observers.reset()
    observers._loaded = True  # no configured emitter: only ours
    calls: list[tuple[str, str, str]] = []

    def observer(kind, run):
        calls.append((kind, run.external_id or run.entrypoint or "", run.status))

    observers.add_observer(observer)
    yield calls
    observers.reset()


def test_engine_events_notify_each_transition_once(seen):
    workflow = lifecycle.get_or_create_transform("wf.py", "x = 1\n", "prefect")
    run = lifecycle.engine_run(workflow, external_source="prefect", external_id="a",
                               status="scheduled")
    lifecycle.engine_run(workflow, external_source="prefect", external_id="a")
    lifecycle.engine_run(workflow, external_source="prefect", external_id="a")      # duplicate
    lifecycle.engine_run(workflow, external_source="prefect", external_id="a", status="completed")
    lifecycle.engine_run(workflow, external_source="prefect", external_id="a", status="completed")
    lifecycle.correct_status(run, "errored", reason="operator")
    lifecycle.engine_run(workflow, external_source="prefect", external_id="b", status="skipped")
    assert seen == [("start", "a", "started"), ("finish", "a", "completed"),
                    ("finish", "a", "errored"), ("start", "b", "skipped"),
                    ("finish", "b", "skipped")]


def test_a_failing_observer_is_logged_once_and_runs_go_on(seen, caplog):
    def broken(kind, run):
        raise RuntimeError("observer bug")

    observers.add_observer(broken)

    @ln.step()
    def work(i: int) -> int:
        return i

    with caplog.at_level(logging.WARNING, logger="lineage.lifecycle"):
        assert [work(i) for i in range(3)] == [0, 1, 2]
    assert {r.status for r in ln.Run.filter()} == {"completed"}
    assert len([r for r in caplog.records if "run observer" in r.getMessage()]) == 1
    assert [k for k, _, _ in seen] == ["start", "finish"] * 3


def test_a_reference_is_one_artifact_per_location_name_and_version(instance):
    workflow = lifecycle.get_or_create_transform("wf.py", "x = 1\n", "spark")
    first = lifecycle.engine_run(workflow, external_source="spark", external_id="1")
    second = lifecycle.engine_run(workflow, external_source="spark", external_id="2")
    a = lifecycle.record_reference(first, "s3://b", "t", role="output", version="1", size=5)
    assert lifecycle.record_reference(first, "s3://b", "t", role="output", version="1") == a
    assert lifecycle.record_reference(second, "s3://b", "t", role="input", version="1") == a
    assert lifecycle.record_reference(second, "s3://b", "t", role="output", version="2") != a
    assert lifecycle.record_reference(second, "s3://b", "t", role="output", version="1") == a
    artifact = ln.Artifact.get(id=a)
    assert (artifact.kind, artifact.hash_type, artifact.size) == ("reference", "reference", 5)
    assert artifact.space_id == first.space_id
    assert artifact.run_id == second.id and [r.id for r in artifact.previous_runs] == [first.id]
    assert [x.id for x in second.input_artifacts] == [a]
    long = lifecycle.record_reference(first, "s3://b", "t", role="input", version="v" * 100)
    assert len(ln.Artifact.get(id=long).hash) == 64
    with pytest.raises(ValidationError, match="non-empty location"):
        lifecycle.record_reference(first, "", "t", role="input")
