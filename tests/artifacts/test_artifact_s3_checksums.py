"""S3 saves read the file once, carry the SHA-256, and never show a mismatch (issue 18).

Against moto's standalone server on loopback, with the file rewritten by
another process after construction (same size, same modification time).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from artifact_helpers import bucket_keys, stored_keys, write_random
from test_artifact_one_pass import SMALL, rewrite_in_another_process

import lineage as ln
from lineage.errors import ValidationError


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """S3 storage needs a shared database (an embedded SQLite instance refuses a bucket)."""
    return request.param


def test_s3_upload_carries_the_sha256_and_refuses_a_changed_file(
        s3_instance, s3_client, bucket: str, tmp_path: Path):
    path = write_random(tmp_path / "data.bin", SMALL)
    original = path.read_bytes()
    artifact = ln.Artifact(path, key="data.bin").save()
    head = s3_client.head_object(Bucket=bucket, Key=f"prefix/{artifact.object_key}",
                                 ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(original).digest()).decode()
    changed = ln.Artifact(write_random(tmp_path / "next.bin", SMALL), key="data.bin")
    before = bucket_keys(s3_client, bucket)
    rewrite_in_another_process(tmp_path / "next.bin", 10)
    with pytest.raises(ValidationError, match="changed since its content was hashed"):
        changed.save()
    assert bucket_keys(s3_client, bucket) == before
    assert ln.Artifact.objects_unhidden().count() == 1


def test_s3_multipart_mismatch_is_aborted_and_never_visible(moto_server, s3_client, bucket: str,
                                                           tmp_path: Path, monkeypatch):
    from lineage.storage.fsspec_store import FsspecStore
    from lineage.storage.hashing import hash_file
    from lineage.testing import use_s3_endpoint

    use_s3_endpoint(monkeypatch, moto_server)
    store = FsspecStore(f"s3://{bucket}/prefix", multipart_chunksize=5 << 20)
    path = write_random(tmp_path / "big.bin", 12 << 20)
    digest = hash_file(path)
    rewrite_in_another_process(path, 11 << 20)  # in the last part
    with pytest.raises(ValidationError, match="changed since its content was hashed"):
        store.put_file(path, "objects/ab/big.bin", digest=digest)
    assert bucket_keys(s3_client, bucket) == []
    assert store.list_temporaries() == [], "the multipart upload was aborted"
    fresh = hash_file(path)
    assert store.put_file(path, "objects/ab/big.bin", digest=fresh) == fresh
    head = s3_client.head_object(Bucket=bucket, Key="prefix/objects/ab/big.bin")
    assert head["Metadata"]["lineage-sha256"] == fresh.sha256
    assert store.holds("objects/ab/big.bin", fresh)
    assert not store.holds("objects/ab/big.bin", digest)


def test_s3_resave_repairs_an_overwritten_object(s3_instance, s3_client, bucket: str,
                                                 tmp_path: Path):
    path = write_random(tmp_path / "data.bin", SMALL)
    original = path.read_bytes()
    artifact = ln.Artifact(path, key="data.bin").save()
    key = f"prefix/{artifact.object_key}"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"\0" * SMALL)  # same size, other bytes
    ln.Artifact(path, key="data.bin").save()
    assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == original
    assert stored_keys() == [artifact.object_key]
