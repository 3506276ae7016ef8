"""Writers killed with SIGKILL at random moments, 100 times; then doctor repairs everything."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

import lineage as ln
from lineage.artifacts.doctor import run_doctor
from lineage.storage.hashing import FileDigest

FORK = multiprocessing.get_context("fork")

KILLS = 100


def _save_forever(folder: str, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(10_000):
        path = Path(folder) / f"{seed}-{i}.bin"
        path.write_bytes(os.urandom(rng.choice([64, 8_192, 3_000_000])))
        key = f"kill/{rng.randrange(4)}.bin"
        if rng.random() < 0.25:
            extra = Path(folder) / f"{seed}-{i}-b.bin"
            extra.write_bytes(os.urandom(512))
            ln.save([ln.Artifact(path, key=key), ln.Artifact(extra, key=f"kill/bulk-{seed}-{i}.bin")])
        else:
            ln.Artifact(path, key=key).save()


def _check_invariants(instance) -> None:
    artifacts = ln.Artifact.objects_unhidden().all()
    assert not [a for a in artifacts if a.storage_ongoing]
    by_key: dict[str, list] = {}
    for a in artifacts:
        by_key.setdefault(a.key, []).append(a)
    for key, versions in by_key.items():
        assert [v.is_latest for v in versions].count(True) == 1, key
        latest = next(v for v in versions if v.is_latest)
        for v in versions:  # above the latest: only saves doctor completed behind a newer one
            if v.version > latest.version:
                assert any(w.created_at > v.created_at for w in versions), (key, v.version)
    store = instance.store()
    for a in artifacts:
        assert store.verify(a.object_key, FileDigest(a.hash, a.size)), a.key
    assert not store.list_temporaries()


@pytest.mark.slow
def test_sigkilled_writers_leave_nothing_doctor_cannot_repair(instance, tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    rng = random.Random(1234)
    kills = 0
    while kills < KILLS:
        procs = [FORK.Process(target=_save_forever, args=(str(folder), kills * 10 + j)) for j in range(2)]
        for p in procs:
            p.start()
        time.sleep(rng.uniform(0.05, 0.6))
        for p in procs:
            os.kill(p.pid, signal.SIGKILL)
            p.join()
            assert p.exitcode == -signal.SIGKILL
            kills += 1
    saved = ln.Artifact.filter().count()
    assert saved > 0  # the writers got work done between kills
    if instance.db.is_sqlite:
        assert instance.db.query("PRAGMA integrity_check") == [("ok",)]
    report = run_doctor(fix=True, grace_seconds=0)
    # the kills did interrupt saves: doctor had leftovers to repair
    assert report.stale_rows or report.temporaries or report.orphans, report.render()
    assert not report.missing and not report.corrupt and not report.errors, report.render()
    _check_invariants(instance)
    second = run_doctor(fix=True, grace_seconds=0)
    assert second.problems == 0, second.render()
    assert ln.Artifact.filter().count() >= saved  # completed rows are kept, none lost
