"""Identity, versions, keys and bad inputs."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from artifact_helpers import all_rows, child_result, run_child, stored_keys, write, write_random

import lineage as ln
from lineage.errors import InvalidKeyError, ValidationError


def test_existing_content_returns_the_existing_record_by_default(instance, tmp_path: Path):
    path = write(tmp_path / "a.txt", "same")
    first = ln.Artifact(path, key="a.txt").save()
    with pytest.warns(UserWarning, match=f"returning the existing artifact {first.uid}.*'b.txt' not applied"):
        again = ln.Artifact(write(tmp_path / "copy.txt", "same"), key="b.txt")
    assert again.id == first.id and again.uid == first.uid and again.key == "a.txt"
    again.save()
    assert len(all_rows()) == 1 and stored_keys() == [first.object_key]


def test_existing_content_raises_under_the_error_setting(instance, tmp_path: Path):
    path = write(tmp_path / "a.txt", "same")
    first = ln.Artifact(path, key="a.txt").save()
    ln.settings.upon_artifact_create_if_hash_exists = "error"
    with pytest.raises(FileExistsError, match=first.uid):
        ln.Artifact(path, key="a.txt")
    assert len(all_rows()) == 1


def test_existing_content_makes_a_new_record_under_warn_create_new(instance, tmp_path: Path):
    path = write(tmp_path / "a.txt", "same")
    first = ln.Artifact(path, key="a.txt").save()
    ln.settings.upon_artifact_create_if_hash_exists = "warn_create_new"
    with pytest.warns(UserWarning, match="creating a new artifact"):
        second = ln.Artifact(path, key="b.txt")
    assert second.id is None
    second.save()
    assert second.id != first.id and second.hash == first.hash and second.dedup_hash is None
    assert ln.Artifact.filter(hash=first.hash).count() == 2
    assert stored_keys() == [first.object_key], "one object for both rows"


def test_new_content_under_a_key_is_a_new_version_with_one_latest(instance, tmp_path: Path):
    path = tmp_path / "model.txt"
    versions = []
    for i in range(4):
        artifact = ln.Artifact(write(path, f"content {i}"), key="models/model.txt")
        assert artifact.version == i + 1, "the version is predicted at construction"
        versions.append(artifact.save())
    assert [v.version for v in versions] == [1, 2, 3, 4]
    stems = {v.uid[:12] for v in versions}
    assert len(stems) == 1, "versions share the uid stem"
    assert len({v.uid for v in versions}) == 4
    assert ln.Artifact.filter(key="models/model.txt", is_latest=True).one().uid == versions[-1].uid
    latest = ln.Artifact.get(key="models/model.txt")
    assert latest.uid == versions[-1].uid and latest.is_latest
    assert [v.version for v in latest.versions] == [1, 2, 3, 4]
    assert [v.is_latest for v in latest.versions] == [False, False, False, True]
    # an old content again under the key returns that old version, not a new one
    with pytest.warns(UserWarning, match="version 1, not the latest"):
        old = ln.Artifact(write(path, "content 0"), key="models/model.txt")
    assert old.uid == versions[0].uid


def test_artifacts_without_key_are_each_their_own_latest(instance, tmp_path: Path):
    a = ln.Artifact(write(tmp_path / "a.txt", "a")).save()
    b = ln.Artifact(write(tmp_path / "b.txt", "b")).save()
    assert a.is_latest and b.is_latest and a.version == b.version == 1 and a.key is None
    assert [x.uid for x in a.versions] == [a.uid]


@pytest.mark.parametrize("key", ["../x", "/x", "a/../../x", "", "a\\b", "x/"])
def test_keys_that_escape_storage_are_refused(instance, tmp_path: Path, key: str):
    path = write(tmp_path / "a.txt", "a")
    with pytest.raises(InvalidKeyError) as excinfo:
        ln.Artifact(path, key=key)
    assert isinstance(excinfo.value, ValueError)
    assert all_rows() == [] and stored_keys() == []


def test_keys_are_normalized(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="raw//./data/../a.txt").save()
    assert artifact.key == "raw/a.txt"


def test_missing_file_is_a_clear_file_not_found_error(instance, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no file or folder at .*nope.csv"):
        ln.Artifact(tmp_path / "nope.csv", key="nope.csv")
    assert all_rows() == []


def test_empty_folder_is_a_validation_error(instance, tmp_path: Path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValidationError, match="contains no files"):
        ln.Artifact(tmp_path / "empty", key="empty")
    assert all_rows() == []


def test_fifo_is_refused(sqlite_instance, tmp_path: Path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValidationError, match="not a regular file"):
        ln.Artifact(tmp_path / "pipe", key="pipe")


def test_non_string_description_is_refused(instance, tmp_path: Path):
    with pytest.raises(ValidationError, match="description"):
        ln.Artifact(write(tmp_path / "a.txt", "a"), description=3)  # type: ignore[arg-type]


def test_unreadable_file_raises_permission_error_in_an_unprivileged_process(tmp_path: Path):
    """Root reads everything, so a child drops to ``nobody`` (after its imports) to read."""
    top = Path(tempfile.mkdtemp(prefix="lineage-nobody-"))
    try:
        secret = write(top / "secret.txt", "no")
        os.chmod(secret, 0o600)  # owned by root
        code = f"""
            import json, os, pathlib, subprocess
            import lineage as ln
            from lineage.instance import current_instance
            top = pathlib.Path({str(top)!r})
            ln.init(storage=top / "inst")
            warm = top / "warm.txt"
            warm.write_text("warm")
            ln.Artifact(warm, key="warm.txt").save().delete()  # import the whole save path
            ln.settings.upon_artifact_create_if_hash_exists  # noqa: B018
            current_instance().close()
            subprocess.run(["chown", "-R", "nobody:nogroup", str(top / "inst")], check=True)
            subprocess.run(["chown", "nobody:nogroup", str(top)], check=True)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            ln.connect(top / "inst")
            out = {{}}
            try:
                ln.Artifact({str(secret)!r}, key="secret.txt")
            except PermissionError as exc:
                out["construct"] = type(exc).__name__
            mine = top / "mine.txt"
            mine.write_text("mine")
            artifact = ln.Artifact(mine, key="mine.txt")
            os.chmod(mine, 0)  # readable when hashed, unreadable when stored
            try:
                artifact.save()
            except PermissionError as exc:
                out["save"] = type(exc).__name__
            out["rows"] = current_instance().db.query("SELECT COUNT(*) FROM artifact")[0][0]
            store = current_instance().store()
            out["objects"] = list(store.list_keys("objects/"))
            out["temporaries"] = [t.key for t in store.list_temporaries()]
            print("RESULT " + json.dumps(out))
        """
        proc = run_child(None, code, env={"LINEAGE_CONFIG_DIR": str(top / "config")})
        result = child_result(proc)
        assert result == {"construct": "PermissionError", "save": "PermissionError",
                          "rows": 0, "objects": [], "temporaries": []}
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.slow
def test_large_files_differing_in_one_middle_byte_are_two_artifacts(sqlite_instance, tmp_path: Path):
    size = 120 << 20
    first = write_random(tmp_path / "big1.bin", size, seed=1)
    second = tmp_path / "big2.bin"
    shutil.copyfile(first, second)
    with open(second, "r+b") as f:
        f.seek(size // 2)
        byte = f.read(1)
        f.seek(size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "existing artifact" warning
        a = ln.Artifact(first, key="big.bin").save()
        b = ln.Artifact(second, key="big.bin").save()
    assert a.hash != b.hash and a.size == b.size == size
    assert (a.version, b.version) == (1, 2)
    assert len(stored_keys()) == 2
    assert ln.Artifact.filter(key="big.bin").count() == 2


def test_fields_edited_after_construction_are_checked(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    with pytest.raises(ValidationError, match="Artifact.description cannot contain NUL"):
        artifact.description = "bad \x00 byte"
    artifact.description = "fine"
    artifact.key = "/absolute"
    with pytest.raises(InvalidKeyError):
        artifact.save()
    artifact.key = "renamed/./a.txt"
    artifact.save()
    fresh = ln.Artifact.get(artifact.uid)
    assert (fresh.key, fresh.description) == ("renamed/a.txt", "fine")
