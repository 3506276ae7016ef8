"""Run links: outputs, re-created artifacts, inputs, projects."""

from __future__ import annotations

from pathlib import Path

import pytest
from artifact_helpers import link_count, write

import lineage as ln


def test_an_artifact_saved_in_a_run_is_its_output(instance, make_run, tmp_path: Path):
    with make_run() as run:
        artifact = ln.Artifact(write(tmp_path / "out.txt", "out"), key="out.txt").save()
    assert artifact.run_id == run.id
    assert ln.Artifact.get(key="out.txt").run.uid == run.uid
    assert [a.uid for a in run.output_artifacts] == [artifact.uid]


def test_no_run_no_link_no_error(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "out.txt", "out"), key="out.txt").save()
    assert artifact.run_id is None
    artifact.load()
    artifact.cache()
    with artifact.open() as f:
        f.read()
    assert link_count("run_input") == 0


def test_recreated_artifact_moves_the_earlier_run_to_previous_runs(instance, make_run, tmp_path: Path):
    path = write(tmp_path / "same.txt", "same")
    with make_run() as first:
        artifact = ln.Artifact(path, key="same.txt").save()
    with make_run() as second:
        with pytest.warns(UserWarning, match="existing artifact"):
            again = ln.Artifact(path, key="same.txt")
        again.save()
        assert again.id == artifact.id and again.run_id == second.id
    with make_run() as third, pytest.warns(UserWarning):
        ln.Artifact(path, key="same.txt").save()
    fresh = ln.Artifact.get(key="same.txt")
    assert fresh.run.uid == third.uid
    assert sorted(r.uid for r in fresh.previous_runs) == sorted([first.uid, second.uid])
    assert [a.uid for a in first.recreated_artifacts] == [artifact.uid]
    # the same run saving it again changes nothing
    with make_run() as fourth:
        with pytest.warns(UserWarning):
            ln.Artifact(path, key="same.txt").save()
        with pytest.warns(UserWarning):
            ln.Artifact(path, key="same.txt").save()
    fresh = ln.Artifact.get(key="same.txt")
    assert fresh.run.uid == fourth.uid
    assert sorted(r.uid for r in fresh.previous_runs) == sorted([first.uid, second.uid, third.uid])


def test_load_cache_and_open_record_inputs(instance, make_run, tmp_path: Path):
    with make_run() as producer:
        a = ln.Artifact(write(tmp_path / "a.csv", "x\n1\n"), key="a.csv").save()
        b = ln.Artifact(write(tmp_path / "b.txt", "b"), key="b.txt").save()
        c = ln.Artifact(write(tmp_path / "c.bin", b"c"), key="c.bin").save()
        a.load()  # its own output: not an input
        assert link_count("run_input") == 0
    with make_run() as consumer:
        ln.Artifact.get(key="a.csv").load()
        ln.Artifact.get(key="a.csv").load()  # idempotent
        ln.Artifact.get(key="b.txt").cache()
        with ln.Artifact.get(key="c.bin").open("rb") as f:
            assert f.read() == b"c"
    assert sorted(x.uid for x in consumer.input_artifacts) == sorted([a.uid, b.uid, c.uid])
    assert [r.uid for r in ln.Artifact.get(key="a.csv").input_of_runs] == [consumer.uid]
    assert list(producer.input_artifacts) == []


def test_artifacts_saved_in_a_run_with_a_project_join_the_project(instance, make_run, tmp_path: Path):
    project = ln.Project(name="Artifacts project").save()
    with make_run(projects=[project]):
        one = ln.Artifact(write(tmp_path / "1.txt", "1"), key="p/1.txt").save()
        many = [ln.Artifact(write(tmp_path / f"m{i}.txt", f"m{i}"), key=f"p/m{i}.txt") for i in range(3)]
        ln.save(many)
    uids = sorted(a.uid for a in ln.Artifact.filter(projects=project))
    assert uids == sorted([one.uid, *(m.uid for m in many)])


def test_bulk_save_links_outputs_and_recreations(instance, make_run, tmp_path: Path):
    with make_run() as first:
        old = ln.Artifact(write(tmp_path / "old.txt", "old"), key="old.txt").save()
    with make_run() as second:
        with pytest.warns(UserWarning):
            again = ln.Artifact(tmp_path / "old.txt", key="old.txt")
        new = ln.Artifact(write(tmp_path / "new.txt", "new"), key="new.txt")
        ln.save([again, new])
    assert ln.Artifact.get(key="new.txt").run.uid == second.uid
    fresh = ln.Artifact.get(key="old.txt")
    assert fresh.uid == old.uid and fresh.run.uid == second.uid
    assert [r.uid for r in fresh.previous_runs] == [first.uid]
