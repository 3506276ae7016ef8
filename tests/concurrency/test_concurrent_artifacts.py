"""Concurrent writer processes saving artifacts and step runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import lineage as ln

WRITERS = 8


def _step_runs(n: int) -> int:
    @ln.step()
    def noop(i: int) -> int:
        return i

    @ln.flow()
    def writer(count: int) -> None:
        for i in range(count):
            noop(i)

    writer(n)
    return n


def test_eight_writers_record_all_sixteen_hundred_step_runs(instance, processes):
    results = processes(_step_runs, [(200,)] * WRITERS)
    assert [s for s, _ in results] == ["ok"] * WRITERS, results
    steps = ln.Run.filter(entrypoint__endswith="noop")
    assert steps.count() == WRITERS * 200
    assert steps.filter(status="completed").count() == WRITERS * 200
    flows = ln.Run.filter(entrypoint__endswith="writer").all()
    assert len(flows) == WRITERS
    for flow in flows:  # every step links to its own writer's flow run
        assert flow.initiated_runs.count() == 200


def _save(path: str, key: str, barrier) -> str:
    artifact = ln.Artifact(path, key=key)
    barrier.wait(timeout=60)
    return artifact.save().uid


def _files(folder: Path, contents: list[bytes]) -> list[str]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i, content in enumerate(contents):
        path = folder / f"f{i}.bin"
        path.write_bytes(content)
        paths.append(str(path))
    return paths


def test_writers_saving_new_content_under_one_key_all_land_as_versions(instance, processes, fork_barrier, tmp_path):
    paths = _files(tmp_path / "src", [os.urandom(1024) for _ in range(WRITERS)])
    barrier = fork_barrier(WRITERS)
    results = processes(_save, [(p, "shared/key.bin", barrier) for p in paths])
    assert [s for s, _ in results] == ["ok"] * WRITERS, results
    versions = ln.Artifact.filter(key="shared/key.bin").all()
    assert len(versions) == WRITERS
    assert sorted(a.version for a in versions) == list(range(1, WRITERS + 1))
    assert [a.is_latest for a in versions].count(True) == 1
    assert len({a.uid[:12] for a in versions}) == 1  # one version family
    assert ln.Artifact.filter(storage_ongoing=True).count() == 0


def test_writers_saving_identical_content_end_with_one_artifact(instance, processes, fork_barrier, tmp_path):
    content = os.urandom(4096)
    paths = _files(tmp_path / "same", [content] * WRITERS)
    barrier = fork_barrier(WRITERS)
    results = processes(_save, [(p, "same/content.bin", barrier) for p in paths])
    assert [s for s, _ in results] == ["ok"] * WRITERS, results
    assert len({uid for _, uid in results}) == 1
    assert ln.Artifact.filter().count() == 1
    assert ln.Artifact.objects_unhidden().count() == 1
    only = ln.Artifact.get(key="same/content.bin")
    assert only.is_latest and only.version == 1


def test_writers_of_different_keys_never_conflict(instance, processes, fork_barrier, tmp_path):
    paths = _files(tmp_path / "keys", [os.urandom(2048) for _ in range(WRITERS)])
    barrier = fork_barrier(WRITERS)
    results = processes(_save, [(p, f"k/{i}.bin", barrier) for i, p in enumerate(paths)])
    assert [s for s, _ in results] == ["ok"] * WRITERS, results
    assert ln.Artifact.filter(is_latest=True, version=1).count() == WRITERS
