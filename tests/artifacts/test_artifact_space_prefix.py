"""Objects in storage per space: ``spaces/<space uid>/objects/...``, moved with their record."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import bucket_keys, write

import lineage as ln
from lineage import lifecycle
from lineage.artifacts.doctor import run_doctor


def _in_space(space: str | None, path: Path, key: str) -> ln.Artifact:
    if space is None:
        return ln.Artifact(path, key=key).save()
    return ln.flow(space=space)(lambda: ln.Artifact(path, key=key).save())()


def _root(artifact: ln.Artifact) -> Path:
    return Path(ln.Artifact.get(artifact.uid).storage.root)


def test_an_artifact_of_a_space_is_stored_under_the_space_prefix(instance, tmp_path: Path):
    space = lifecycle.create_space("alpha")
    private = _in_space("alpha", write(tmp_path / "a.csv", "a,b\n1,2\n"), "x/a.csv")
    public = _in_space(None, write(tmp_path / "p.csv", "p\n"), "x/p.csv")
    assert private.object_key == f"spaces/{space.uid}/objects/{private.hash[:2]}/{private.hash}.csv"
    assert public.object_key == f"objects/{public.hash[:2]}/{public.hash}.csv"
    assert (_root(private) / private.object_key).read_text() == "a,b\n1,2\n"
    folder = tmp_path / "folder"
    write(folder / "deep" / "y.txt", "y")
    tree = _in_space("alpha", folder, "x/folder")
    assert tree.object_key == f"spaces/{space.uid}/objects/{tree.hash[:2]}/{tree.hash}"
    assert (_root(tree) / tree.object_key / "deep" / "y.txt").read_text() == "y"


def test_moving_an_artifact_moves_its_object_to_the_new_prefix(instance, tmp_path: Path):
    a, b = lifecycle.create_space("alpha"), lifecycle.create_space("beta")
    art = _in_space("alpha", write(tmp_path / "a.csv", "moving"), "m/a.csv")
    old = _root(art) / art.object_key
    b.move_in(art)
    moved = ln.Artifact.get(art.uid)
    assert moved.space_id == b.id and moved.object_key.startswith(f"spaces/{b.uid}/objects/")
    assert not old.exists(), "the old object is removed once nothing references it"
    assert Path(moved.cache()).read_text() == "moving"
    change = ln.RecordChange.filter(record_uid=art.uid).order_by("-id").first()
    assert change.fields["space_id"] == b.id and change.previous["space_id"] == a.id
    assert change.fields["object_key"] == moved.object_key
    lifecycle.move_to_space(moved, "all")
    back = ln.Artifact.get(art.uid)
    assert back.object_key == f"objects/{art.hash[:2]}/{art.hash}.csv"
    assert (_root(art) / back.object_key).read_text() == "moving"
    assert not (_root(art) / "spaces" / b.uid / "objects").exists() or not any(
        (_root(art) / "spaces" / b.uid / "objects").rglob("*.csv"))
    assert run_doctor(fix=False, grace_seconds=0).orphans == []


def test_a_move_onto_content_the_target_space_holds_shares_that_object(instance, tmp_path: Path):
    lifecycle.create_space("alpha")
    mine = _in_space("alpha", write(tmp_path / "a.csv", "shared bytes"), "s/a.csv")
    theirs = _in_space(None, write(tmp_path / "b.csv", "shared bytes"), "s/b.csv")
    old = _root(mine) / mine.object_key
    lifecycle.move_to_space(mine, "all")
    assert ln.Artifact.get(mine.uid).object_key == theirs.object_key
    assert not old.exists()
    ln.Artifact.get(mine.uid).delete()  # the other record still uses the object
    assert Path(ln.Artifact.get(theirs.uid).cache()).read_text() == "shared bytes"


def test_a_failed_commit_leaves_the_record_and_removes_the_copy(instance, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    import lineage.db.cas as cas

    b = lifecycle.create_space("beta")
    art = _in_space(None, write(tmp_path / "a.csv", "stays"), "f/a.csv")

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # the process stops between the copy and the commit

    monkeypatch.setattr(cas, "update_changed", crash)
    with pytest.raises(KeyboardInterrupt):
        lifecycle.move_to_space(art, "beta")
    monkeypatch.undo()
    row = ln.Artifact.get(art.uid)
    assert row.space_id == 1 and row.object_key == art.object_key
    assert Path(row.cache()).read_text() == "stays"
    assert not (_root(art) / "spaces" / b.uid).exists() or not any(
        p.is_file() for p in (_root(art) / "spaces" / b.uid).rglob("*"))


def test_doctor_removes_the_leftovers_a_crash_in_a_move_leaves(instance, tmp_path: Path):
    b = lifecycle.create_space("beta")
    art = _in_space(None, write(tmp_path / "a.csv", "left over"), "d/a.csv")
    root = _root(art)
    old_path = root / art.object_key
    # A crash after the copy, before the commit, leaves the copy under B's prefix.
    copy = root / f"spaces/{b.uid}/objects/{art.hash[:2]}/{art.hash}.csv"
    copy.parent.mkdir(parents=True)
    shutil.copy(old_path, copy)
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.orphans == [f"{root}: spaces/{b.uid}/objects/{art.hash[:2]}/{art.hash}.csv"]
    assert not copy.exists() and old_path.exists()
    # A crash after the commit, before the old object's removal, leaves the old object.
    lifecycle.move_to_space(art, "beta")
    old_path.parent.mkdir(parents=True, exist_ok=True)
    old_path.write_text("left over")
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.orphans == [f"{root}: objects/{art.hash[:2]}/{art.hash}.csv"]
    assert not old_path.exists()
    assert Path(ln.Artifact.get(art.uid).cache()).read_text() == "left over"
    assert report.missing == [] and report.corrupt == []


# --- S3 (moto standalone server), PostgreSQL metadata --------------------------------------
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_s3_objects_live_under_the_space_prefix_and_move(s3_instance, s3_client,
                                                            bucket: str, tmp_path: Path):
    a, b = lifecycle.create_space("alpha"), lifecycle.create_space("beta")
    art = _in_space("alpha", write(tmp_path / "a.csv", "on s3"), "s3/a.csv")
    folder = tmp_path / "folder"
    write(folder / "x.txt", "x")
    tree = _in_space("alpha", folder, "s3/folder")
    assert bucket_keys(s3_client, bucket) == sorted([
        f"prefix/spaces/{a.uid}/objects/{art.hash[:2]}/{art.hash}.csv",
        f"prefix/spaces/{a.uid}/objects/{tree.hash[:2]}/{tree.hash}/x.txt"])
    b.move_in(art, tree)
    assert bucket_keys(s3_client, bucket) == sorted([
        f"prefix/spaces/{b.uid}/objects/{art.hash[:2]}/{art.hash}.csv",
        f"prefix/spaces/{b.uid}/objects/{tree.hash[:2]}/{tree.hash}/x.txt"])
    assert Path(ln.Artifact.get(art.uid).cache()).read_text() == "on s3"
    assert (Path(ln.Artifact.get(tree.uid).cache()) / "x.txt").read_text() == "x"
    # a leftover of a crashed move under A's prefix is an orphan for doctor
    s3_client.put_object(Bucket=bucket, Body=b"on s3",
                         Key=f"prefix/spaces/{a.uid}/objects/{art.hash[:2]}/{art.hash}.csv")
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.orphans == [
        f"s3://{bucket}/prefix: spaces/{a.uid}/objects/{art.hash[:2]}/{art.hash}.csv"]
    assert report.missing == []
    assert not any(k.startswith(f"prefix/spaces/{a.uid}/") for k in bucket_keys(s3_client, bucket))
