"""Artifacts on S3: a standalone moto server on loopback, real HTTP, injected errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from artifact_helpers import all_rows, bucket_keys, write
from test_artifact_bulk import assert_bulk_outcome, make_files

import lineage as ln
from lineage.errors import BulkSaveError, StorageError
from lineage.testing import use_s3_endpoint


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: an embedded (SQLite) instance refuses a bucket as its storage."""
    return request.param


def objects_in(s3_client: Any, bucket: str) -> list[str]:
    return [k for k in bucket_keys(s3_client, bucket) if k.startswith("prefix/objects/")]


def test_round_trip_on_s3(s3_instance, s3_client, bucket: str, tmp_path: Path):
    df = pd.DataFrame({"a": [1, 2]})
    table = ln.Artifact.from_dataframe(df, key="s3/df.parquet").save()
    folder = tmp_path / "folder"
    write(folder / "x.txt", "x")
    write(folder / "deep" / "y.txt", "y")
    tree = ln.Artifact(folder, key="s3/folder").save()
    assert table.storage.root == f"s3://{bucket}/prefix"
    assert sorted(objects_in(s3_client, bucket)) == sorted([
        f"prefix/{table.object_key}", f"prefix/{tree.object_key}/deep/y.txt",
        f"prefix/{tree.object_key}/x.txt"])
    pd.testing.assert_frame_equal(ln.Artifact.get(key="s3/df.parquet").load(), df)
    local = tree.cache()
    assert (local / "deep" / "y.txt").read_text() == "y"
    with table.open("rb") as f:
        assert f.read(4) == b"PAR1"
    table.delete()
    assert objects_in(s3_client, bucket) == [f"prefix/{tree.object_key}/deep/y.txt",
                                              f"prefix/{tree.object_key}/x.txt"]


def test_cache_downloads_once(proxied_s3_instance, fault_proxy, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "data.txt", "payload"), key="data.txt").save()

    def downloads() -> int:
        return sum(1 for method, path in fault_proxy.requests
                   if method == "GET" and path.split("?")[0].endswith(artifact.object_key))

    first = artifact.cache()
    assert first.read_text() == "payload" and downloads() == 1
    assert artifact.cache() == first and ln.Artifact.get(key="data.txt").load() == "payload"
    assert downloads() == 1
    first.unlink()  # a lost cache entry is downloaded again
    assert artifact.cache().read_text() == "payload" and downloads() == 2


def test_missing_bucket_is_a_storage_error_and_leaves_no_row(instance, moto_server, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    use_s3_endpoint(monkeypatch, moto_server)
    ln.settings.storage = "s3://no-such-bucket-lineage/prefix"
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt")
    with pytest.raises(StorageError, match="does not exist"):
        artifact.save()
    others = [ln.Artifact(write(tmp_path / f"{i}.txt", str(i)), key=f"{i}.txt") for i in range(3)]
    with pytest.raises(BulkSaveError) as excinfo:
        ln.save(others)
    assert isinstance(excinfo.value.__cause__, StorageError) and excinfo.value.saved == []
    assert all_rows() == []


def test_injected_server_error_re_raises_and_leaves_nothing(proxied_s3_instance, fault_proxy,
                                                           s3_client, bucket: str, tmp_path: Path):
    kept = ln.Artifact(write(tmp_path / "kept.txt", "kept"), key="kept.txt").save()
    fault_proxy.fail_object_puts_after = 0
    with pytest.raises(OSError) as excinfo:
        ln.Artifact(write(tmp_path / "b.txt", "b"), key="b.txt").save()
    assert not isinstance(excinfo.value, StorageError), "a server error is not a missing bucket"
    assert [r[0] for r in all_rows()] == [kept.uid]
    assert objects_in(s3_client, bucket) == [f"prefix/{kept.object_key}"]


def test_bulk_save_with_access_denied_midway(proxied_s3_instance, fault_proxy, s3_client,
                                             bucket: str, tmp_path: Path):
    artifacts = [ln.Artifact(p, key=f"bulk/{p.name}") for p in make_files(tmp_path, 12)]
    fault_proxy.fail_object_puts_after = 5
    fault_proxy.error = (403, "AccessDenied")  # e.g. a bucket policy changed midway
    with pytest.raises(BulkSaveError) as excinfo:
        ln.save(artifacts)
    exc = excinfo.value
    assert isinstance(exc.__cause__, PermissionError)
    assert len(exc.saved) == 5 and len(exc.failed) == 7
    assert_bulk_outcome(exc, artifacts)
    assert sorted(objects_in(s3_client, bucket)) == sorted(f"prefix/{a.object_key}" for a in exc.saved)


def test_bucket_gone_midway_through_a_bulk_save(proxied_s3_instance, fault_proxy, s3_client,
                                                bucket: str, tmp_path: Path):
    artifacts = [ln.Artifact(p, key=f"bulk/{p.name}") for p in make_files(tmp_path, 10)]
    fault_proxy.fail_object_puts_after = 3
    fault_proxy.error = (404, "NoSuchBucket")
    fault_proxy.fail_everything_after_failure = True
    with pytest.raises(BulkSaveError) as excinfo:
        ln.save(artifacts)
    exc = excinfo.value
    assert isinstance(exc.__cause__, StorageError) and "does not exist" in str(exc.__cause__)
    assert len(exc.saved) == 3
    rows = all_rows()
    assert sorted(r[0] for r in rows) == sorted(a.uid for a in exc.saved) and not any(r[2] for r in rows)
    assert sorted(objects_in(s3_client, bucket)) == sorted(f"prefix/{a.object_key}" for a in exc.saved)
    fault_proxy.fail_object_puts_after = None
    fault_proxy.fail_everything_after_failure = False
    assert_bulk_outcome(exc, artifacts)
    ln.save(exc.failed)
    assert ln.Artifact.filter(key__startswith="bulk/").count() == 10


def test_doctor_on_s3_finds_orphans_and_missing_objects(s3_instance, s3_client, bucket: str,
                                                        tmp_path: Path):
    from lineage.artifacts.doctor import run_doctor

    kept = ln.Artifact(write(tmp_path / "kept.txt", "kept"), key="kept.txt").save()
    lost = ln.Artifact(write(tmp_path / "lost.txt", "lost"), key="lost.txt").save()
    s3_client.delete_object(Bucket=bucket, Key=f"prefix/{lost.object_key}")
    orphan = "prefix/objects/ab/" + "ab" * 32 + ".txt"
    s3_client.put_object(Bucket=bucket, Key=orphan, Body=b"nobody's")
    report = run_doctor(fix=False, grace_seconds=0, verify=True)
    assert report.orphans == [f"s3://{bucket}/prefix: {orphan[len('prefix/'):]}"]
    assert report.missing == [f"{lost.uid} lost.txt: s3://{bucket}/prefix/{lost.object_key}"]
    assert report.exit_code == 1
    fixed = run_doctor(fix=True, grace_seconds=0)
    assert fixed.exit_code == 1, "a missing object cannot be repaired by the doctor"
    assert orphan not in bucket_keys(s3_client, bucket)
    # saving the original file again restores the missing object
    with pytest.warns(UserWarning, match="existing artifact"):
        ln.Artifact(tmp_path / "lost.txt", key="lost.txt").save()
    final = run_doctor(fix=False, grace_seconds=0, verify=True)
    assert final.problems == 0 and final.exit_code == 0
    assert kept.load() == "kept" and ln.Artifact.get(key="lost.txt").load() == "lost"
