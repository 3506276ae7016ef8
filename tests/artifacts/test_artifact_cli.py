"""``lineage save`` and ``lineage doctor`` on local storage."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from artifact_helpers import stored_keys, write

import lineage as ln
from lineage.artifacts.doctor import run_doctor
from lineage.cli import main
from lineage.instance import current_instance


def cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_lineage_save(instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(tmp_path / "sample.fasta", ">a\nACGT\n")
    assert cli("save", str(path), "--key", "raw/sample.fasta", "--description", "reads") == 0
    out = capsys.readouterr()
    artifact = ln.Artifact.get(key="raw/sample.fasta")
    assert artifact.uid in out.out and "version=1" in out.out
    assert artifact.description == "reads"
    assert cli("save", str(path), "--key", "raw/sample.fasta") == 0
    assert "existing artifact" in capsys.readouterr().err
    assert cli("save", str(tmp_path / "missing.txt"), "--key", "x") == 1
    assert "no file or folder" in capsys.readouterr().err
    assert cli("save", str(path), "--key", "../x") == 1
    assert "escapes" in capsys.readouterr().err
    assert ln.Artifact.filter().count() == 1


def test_doctor_finds_orphans_temporaries_and_broken_objects(instance, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]):
    store = current_instance().store()
    good = ln.Artifact(write(tmp_path / "good.txt", "good"), key="good.txt").save()
    short = ln.Artifact(write(tmp_path / "short.txt", "short content"), key="short.txt").save()
    flipped = ln.Artifact(write(tmp_path / "flip.txt", "flip me"), key="flip.txt").save()
    gone = ln.Artifact(write(tmp_path / "gone.txt", "gone"), key="gone.txt").save()
    write(store.local_path(short.object_key), "short")            # truncated
    write(store.local_path(flipped.object_key), "FLIP me")        # same size, other bytes
    store.local_path(gone.object_key).unlink()
    orphan = "objects/ab/" + "ab" * 32 + ".txt"
    write(store.local_path(orphan), "nobody's")
    temp = Path(store.root) / ".tmp" / "0123456789.part"
    write(temp, "half")

    assert cli("doctor") == 1, "broken objects are found whatever their age"
    young = capsys.readouterr().out
    assert "orphaned objects" not in young and "temporary files" not in young
    assert "missing objects" in young and "short.txt" in young

    old = time.time() - 7200
    os.utime(store.local_path(orphan), (old, old))
    os.utime(temp, (old, old))
    report = run_doctor(verify=True)
    assert report.orphans == [f"{store.root}: {orphan}"]
    assert report.temporaries == [f"{store.root}: .tmp/0123456789.part"]
    assert report.missing == [f"{gone.uid} gone.txt: {store.root}/{gone.object_key}"]
    assert sorted(report.corrupt) == sorted([
        f"{short.uid} short.txt: {store.root}/{short.object_key}",
        f"{flipped.uid} flip.txt: {store.root}/{flipped.object_key}"])
    assert report.exit_code == 1 and orphan in stored_keys() and temp.exists()

    assert cli("doctor", "--fix") == 1, "missing and corrupt objects cannot be repaired"
    assert orphan not in stored_keys() and not temp.exists()
    assert good.load() == "good"
    # the original files restore missing and truncated objects
    for name in ("short.txt", "gone.txt"):
        with pytest.warns(UserWarning):
            again = ln.Artifact(tmp_path / name, key=name)
        again.save()
    store.local_path(flipped.object_key).unlink()  # same size: only --verify sees it
    with pytest.warns(UserWarning):
        ln.Artifact(tmp_path / "flip.txt", key="flip.txt").save()
    capsys.readouterr()
    assert cli("doctor", "--verify", "--grace", "0") == 0
    assert "no problems found" in capsys.readouterr().out
