"""``ln.save([...])``: all-or-nothing validation, keep-what-completed uploads."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import (
    all_rows,
    assert_no_trace,
    child_result,
    run_child,
    snapshot,
    stored_keys,
    write,
)

import lineage as ln
from lineage.errors import BulkSaveError, ValidationError


def make_files(folder: Path, n: int, prefix: str = "f") -> list[Path]:
    return [write(folder / f"{prefix}{i:03d}.txt", f"{prefix} file {i}\n" * 10) for i in range(n)]


def assert_bulk_outcome(exc: BulkSaveError, artifacts: list[Any]) -> None:
    """Saved ones complete with their object; the others leave no trace."""
    assert isinstance(exc, RuntimeError)
    assert {id(a) for a in exc.saved} | {id(a) for a in exc.failed} == {id(a) for a in artifacts}
    assert not {id(a) for a in exc.saved} & {id(a) for a in exc.failed}
    rows = {r[0]: r for r in all_rows()}
    keys = set(stored_keys())
    assert not [r for r in rows.values() if r[2]], "no flagged row left"
    for a in exc.saved:
        assert a.id is not None and not a.storage_ongoing
        assert rows[a.uid][3] == a.object_key and a.object_key in keys
        assert ln.Artifact.get(key=a.key).uid == a.uid
    for a in exc.failed:
        assert a.id is None
        assert ln.Artifact.objects_unhidden().filter(key=a.key).count() == 0
        assert not [k for k in keys if a.hash in k]
    from lineage.instance import current_instance

    assert current_instance().store().list_temporaries() == []


def test_a_non_record_element_saves_nothing(instance, tmp_path: Path):
    artifacts = [ln.Artifact(p, key=p.name) for p in make_files(tmp_path, 3)]
    with pytest.raises(TypeError, match="element 1 is a str"):
        ln.save([artifacts[0], "b.csv", artifacts[1]])
    with pytest.raises(TypeError, match="list of records"):
        ln.save(artifacts[0])
    assert_no_trace()
    assert all(a.id is None for a in artifacts)


def test_an_invalid_record_saves_nothing(instance, tmp_path: Path):
    artifacts = [ln.Artifact(p, key=p.name) for p in make_files(tmp_path, 3)]
    project = ln.Project(name="never saved")
    artifacts[2].key = "../escape.txt"
    with pytest.raises(ValidationError, match="element 3.*escapes"):
        ln.save([project, *artifacts])
    artifacts[2].key = "fine.txt"
    run = ln.Run()  # no transform: invalid
    with pytest.raises(ValidationError, match="transform_id"):
        ln.save([project, *artifacts, run])
    assert_no_trace()
    assert project.id is None and ln.Project.filter().count() == 0


def test_bulk_save_of_many_files_uses_two_transactions(instance, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    artifacts = [ln.Artifact(p, key=f"many/{p.name}") for p in make_files(tmp_path, 60)]
    db = instance.db
    instance.user_id()  # the user row is written once per process
    calls: list[str] = []
    original = type(db).write

    def counting(self: Any, work: Any) -> Any:
        calls.append(getattr(work, "__name__", "?"))
        return original(self, work)

    monkeypatch.setattr(type(db), "write", counting)
    assert ln.save(artifacts) == artifacts
    monkeypatch.undo()
    assert len(calls) == 2, calls
    assert all(a.id is not None and not a.storage_ongoing and a.is_latest for a in artifacts)
    assert ln.Artifact.filter(key__startswith="many/").count() == 60
    assert len(stored_keys()) == 60
    assert len({a.uid for a in artifacts}) == 60


def test_parallel_uploads_into_new_shard_folders(instance, tmp_path: Path):
    """Hundreds of objects land in the same new shard folders at once."""
    artifacts = [ln.Artifact(p, key=f"shards/{p.name}") for p in make_files(tmp_path, 400)]
    ln.save(artifacts)
    assert ln.Artifact.filter(key__startswith="shards/").count() == 400
    assert len(stored_keys()) == 400


def test_duplicates_and_versions_in_one_batch(instance, tmp_path: Path):
    same1 = ln.Artifact(write(tmp_path / "s1.txt", "same"), key="same.txt")
    same2 = ln.Artifact(write(tmp_path / "s2.txt", "same"), key="same.txt")
    v1 = ln.Artifact(write(tmp_path / "v1.txt", "one"), key="v.txt")
    v2 = ln.Artifact(write(tmp_path / "v2.txt", "two"), key="v.txt")
    ln.save([same1, same2, v1, same1, v2])
    assert same1.id == same2.id and same1.uid == same2.uid
    assert ln.Artifact.filter(key="same.txt").count() == 1
    assert sorted([v1.version, v2.version]) == [1, 2]
    assert ln.Artifact.filter(key="v.txt", is_latest=True).count() == 1
    assert ln.Artifact.get(key="v.txt").version == 2


def test_mixed_records_are_saved(instance, tmp_path: Path):
    project = ln.Project(name="bulk project")
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt")
    ln.save([project, artifact])
    assert project.id is not None and artifact.id is not None


def test_upload_failure_midway_keeps_completed_ones(instance, tmp_path: Path):
    before = snapshot()
    artifacts = [ln.Artifact(p, key=f"bulk/{p.name}") for p in make_files(tmp_path, 20)]
    artifacts[9]._source.unlink()  # the 10th upload fails for real
    with pytest.raises(BulkSaveError) as excinfo:
        ln.save(artifacts)
    exc = excinfo.value
    assert isinstance(exc.__cause__, FileNotFoundError)
    assert artifacts[9] in exc.failed and artifacts[9].id is None
    assert "bulk/f009.txt" in str(exc)
    assert_bulk_outcome(exc, artifacts)
    assert len(all_rows()) == len(before[0]) + len(exc.saved)
    # what failed can be saved again once fixed
    write(artifacts[9]._source, "f file 9\n" * 10)
    ln.save(exc.failed)
    assert ln.Artifact.filter(key__startswith="bulk/").count() == 20


def test_file_size_limit_in_the_middle_of_a_bulk_save(instance, tmp_path: Path):
    """The 5th file exceeds the child's RLIMIT_FSIZE: a real EFBIG midway."""
    files = make_files(tmp_path, 10)
    big = tmp_path / "f004.txt"
    big.write_bytes(b"x" * (768 << 10))  # below STAGE_THRESHOLD: written by save()
    before = snapshot()
    code = f"""
        import json, resource
        import lineage as ln
        from lineage.errors import BulkSaveError
        paths = {[str(p) for p in files]!r}
        artifacts = [ln.Artifact(p, key="limited/" + p.rsplit("/", 1)[1]) for p in paths]
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
        try:
            ln.save(artifacts)
            out = {{"raised": None}}
        except BulkSaveError as exc:
            out = {{"raised": type(exc).__name__, "runtime": isinstance(exc, RuntimeError),
                    "cause": type(exc.__cause__).__name__, "errno": exc.__cause__.errno,
                    "saved": [a.key for a in exc.saved], "failed": [a.key for a in exc.failed]}}
        print("RESULT " + json.dumps(out))
    """
    result = child_result(run_child(instance, code))
    assert result["raised"] == "BulkSaveError" and result["runtime"]
    assert (result["cause"], result["errno"]) == ("OSError", errno.EFBIG)
    assert "limited/f004.txt" in result["failed"]
    assert sorted(result["saved"] + result["failed"]) == sorted(f"limited/{p.name}" for p in files)
    rows = all_rows()
    assert not [r for r in rows if r[2]]
    assert sorted(r[1] for r in rows if r[1] and r[1].startswith("limited/")) == sorted(result["saved"])
    for key in result["saved"]:
        assert ln.Artifact.get(key=key).cache().read_bytes() == (tmp_path / key.split("/")[1]).read_bytes()
    assert len(stored_keys()) == len(before[1]) + len(result["saved"])
    from lineage.instance import current_instance

    assert current_instance().store().list_temporaries() == []
