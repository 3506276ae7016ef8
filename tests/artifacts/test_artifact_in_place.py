"""S3 objects registered in place: hashed, not copied, never owned (moto on loopback)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import bucket_keys

import lineage as ln
from lineage import lifecycle
from lineage.artifacts.doctor import run_doctor
from lineage.artifacts.external import ObjectChangedError
from lineage.errors import StorageError, ValidationError
from lineage.testing import use_s3_endpoint


@pytest.fixture
def s3(instance: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `instance` (storage stays local) with botocore pointed at moto."""
    use_s3_endpoint(monkeypatch, moto_server)
    return instance


@pytest.fixture
def versioned_bucket(s3_client: Any, bucket: str) -> str:
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def put(s3_client: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    return s3_client.put_object(Bucket=bucket, Key=key, Body=body)


def test_registration_hashes_in_place_without_copying(s3, s3_client, bucket, tmp_path: Path):
    body = b"a,b\n1,2\n" * 300_000  # 2.4 MB: several ranged reads
    etag = put(s3_client, bucket, "raw/table.csv", body)["ETag"]
    artifact = ln.Artifact(f"s3://{bucket}/raw/table.csv", description="in place").save()
    local = tmp_path / "same.csv"
    local.write_bytes(body)
    owned = ln.Artifact(local, key="copy.csv").save()  # a file of the same bytes: its own artifact
    assert artifact.hash == owned.hash == hashlib.sha256(body).hexdigest()
    assert owned.id != artifact.id and owned.is_owned and owned.kind == "file"
    assert (artifact.size, artifact.kind, artifact.is_owned) == (len(body), "external", False)
    assert (artifact.object_key, artifact.storage.root) == ("raw/table.csv", f"s3://{bucket}")
    assert artifact.storage.type == "external" and artifact.source_etag == etag
    assert artifact.source_version is None  # the bucket is not versioned
    assert artifact.key == f"s3/{bucket}/raw/table.csv" and artifact.suffix == ".csv"
    assert bucket_keys(s3_client, bucket) == ["raw/table.csv"]  # nothing copied
    assert artifact.load().shape == (599_999, 2)


def test_unchanged_content_is_the_same_artifact_changed_content_a_new_version(s3, s3_client, bucket):
    uri = f"s3://{bucket}/data.txt"
    put(s3_client, bucket, "data.txt", b"one")
    first = ln.Artifact(uri).save()
    again = ln.Artifact(uri).save()
    assert again.id == first.id and again.version == 1
    put(s3_client, bucket, "data.txt", b"two")
    second = ln.Artifact(uri).save()
    assert (second.version, second.is_latest) == (2, True) and second.id != first.id
    assert second.uid[:-4] == first.uid[:-4]
    assert ln.Artifact.get(id=first.id).is_latest is False
    assert [a.version for a in second.versions] == [1, 2]


def test_delete_and_doctor_never_touch_the_object(s3, s3_client, bucket):
    put(s3_client, bucket, "keep.txt", b"mine")
    # An object that looks like lineage's own (objects/...) in a bucket lineage does not own.
    put(s3_client, bucket, "objects/ab/" + "ab" * 32 + ".txt", b"not lineage's")
    artifact = ln.Artifact(f"s3://{bucket}/keep.txt").save()
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.orphans == [] and report.missing == []
    artifact.delete()
    assert ln.Artifact.filter(hash=artifact.hash).count() == 0
    run_doctor(fix=True, grace_seconds=0)
    assert bucket_keys(s3_client, bucket) == ["keep.txt", "objects/ab/" + "ab" * 32 + ".txt"]


def test_a_changed_object_is_an_error_naming_the_fix(s3, s3_client, bucket):
    uri = f"s3://{bucket}/moving.txt"
    put(s3_client, bucket, "moving.txt", b"before")
    artifact = ln.Artifact(uri).save()
    put(s3_client, bucket, "moving.txt", b"after!")
    with pytest.raises(ObjectChangedError, match=r"changed since it was registered.*"
                       r"ln.Artifact\('s3://.*moving.txt'\).save\(\).*versioning"):
        artifact.cache()
    with pytest.raises(ObjectChangedError):
        artifact.open("rb")
    assert not list((s3.cache_dir / "external").rglob("*.txt"))  # nothing unverified kept


def test_a_versioned_bucket_reads_the_recorded_version(s3, s3_client, versioned_bucket):
    bucket = versioned_bucket
    version = put(s3_client, bucket, "v.txt", b"first")["VersionId"]
    artifact = ln.Artifact(f"s3://{bucket}/v.txt").save()
    assert artifact.source_version == version
    put(s3_client, bucket, "v.txt", b"second")
    assert artifact.cache().read_bytes() == b"first"
    with artifact.open() as f:
        assert f.read() == "first"
    s3_client.delete_object(Bucket=bucket, Key="v.txt", VersionId=version)
    for path in (s3.cache_dir / "external").rglob("*"):
        if path.is_file():
            path.unlink()
    with pytest.raises(FileNotFoundError, match=rf"s3://{bucket}/v.txt \(version {version}\).*"
                       "no longer exists.*restore the object"):
        artifact.cache()


def test_a_missing_object_at_registration_is_a_clear_error(s3, bucket):
    with pytest.raises(FileNotFoundError, match=rf"no object s3://{bucket}/nope.csv; check"):
        ln.Artifact(f"s3://{bucket}/nope.csv")
    with pytest.raises(StorageError, match="does not exist"):
        ln.Artifact("s3://no-such-bucket-lineage/x.csv")


def test_credentials_in_a_uri_are_refused_and_never_shown(s3, bucket):
    with pytest.raises(ValidationError) as info:
        ln.Artifact(f"s3://AKIAEXAMPLE:supersecret@{bucket}/x.csv")
    assert "supersecret" not in str(info.value) and "credentials" in str(info.value)
    with pytest.raises(ValidationError, match="parameters other than versionId"):
        ln.Artifact(f"s3://{bucket}/x.csv?X-Amz-Signature=abc")
    with pytest.raises(ValidationError, match="does not name one object"):
        ln.Artifact(f"s3://{bucket}/folder/")


def test_an_injected_s3_error_fails_registration_and_stores_nothing(
        instance, fault_proxy, s3_client, bucket, monkeypatch):
    put(s3_client, bucket, "x.txt", b"x")
    use_s3_endpoint(monkeypatch, fault_proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    fault_proxy.failed = fault_proxy.fail_everything_after_failure = True
    with pytest.raises(OSError):
        ln.Artifact(f"s3://{bucket}/x.txt")
    assert ln.Artifact.filter(kind="external").count() == 0


def test_the_lifecycle_records_objects_in_place(s3, s3_client, bucket):
    put(s3_client, bucket, "out.txt", b"written")
    transform = lifecycle.get_or_create_transform("engine_task.py", "print(1)")
    writer = lifecycle.start_run(transform, environment=False)
    out = lifecycle.record_file(writer, f"s3://{bucket}/out.txt", role="output")
    reader = lifecycle.start_run(transform, environment=False)
    same = lifecycle.record_file(reader, f"s3://{bucket}/out.txt", role="input")
    assert out is not None and same is not None and same.id == out.id
    assert out.run_id == writer.id and out.kind == "external"
    assert [r.id for r in ln.Artifact.get(id=out.id).input_of_runs.all()] == [reader.id]
    assert lifecycle.record_file(reader, f"s3://{bucket}/missing.txt", role="input") is None


def test_moving_to_another_space_moves_the_record_never_the_object(s3, s3_client, bucket):
    from lineage.storage.keys import object_key_for

    # At the very key lineage would use for this content: still not lineage's.
    key = object_key_for(hashlib.sha256(b"here").hexdigest(), ".txt")
    put(s3_client, bucket, key, b"here")
    artifact = ln.Artifact(f"s3://{bucket}/{key}").save()
    lifecycle.create_space("elsewhere")
    lifecycle.move_to_space(artifact, "elsewhere")
    moved = ln.Artifact.get(id=artifact.id)
    assert (moved.object_key, moved.storage.root) == (key, f"s3://{bucket}")
    assert bucket_keys(s3_client, bucket) == [key]
    assert moved.cache().read_bytes() == b"here"
    moved.delete()
    run_doctor(fix=True, grace_seconds=0)
    assert bucket_keys(s3_client, bucket) == [key]


def test_registering_again_in_a_run_links_it_and_keeps_edits(s3, s3_client, bucket, make_run):
    uri = f"s3://{bucket}/edit.txt"
    put(s3_client, bucket, "edit.txt", b"same")
    first = ln.Artifact(uri).save()
    with make_run() as run:
        again = ln.Artifact(uri)
        again.description = "checked"
        ln.save([again])
    stored = ln.Artifact.get(id=first.id)
    assert (stored.description, stored.run_id) == ("checked", run.id)
    assert ln.Artifact.filter(kind="external").count() == 1
