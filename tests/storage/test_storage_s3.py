"""FsspecStore on S3, against a real moto server, with real network faults."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lineage.errors import InvalidKeyError, StorageError, ValidationError
from lineage.storage import open_store
from lineage.storage.fsspec_store import FsspecStore
from lineage.storage.hashing import hash_file, hash_folder
from lineage.storage.keys import object_key_for
from lineage.testing import free_port, start_moto, stop_process

from .conftest import FAST_FAIL, CuttableProxy, RandomFile

MULTIPART = 12 << 20  # three 5 MiB parts with the s3_store fixture


def store_at(url: str, bucket: str, **config: object) -> FsspecStore:
    return FsspecStore(
        f"s3://{bucket}/prefix",
        storage_options={"endpoint_url": url, "config_kwargs": config or FAST_FAIL},
        multipart_chunksize=5 << 20,
    )


@pytest.mark.parametrize("size", [0, 1000, MULTIPART], ids=["empty", "small", "multipart"])
def test_put_file_round_trip(
    s3_store: FsspecStore, random_file: RandomFile, tmp_path: Path, size: int
) -> None:
    src = random_file("src.bin", size)
    expected = hash_file(src)
    key = object_key_for(expected.sha256, ".bin")
    seen: list[int] = []
    assert s3_store.put_file(src, key, progress=seen.append) == expected
    assert sum(seen) == size
    assert s3_store.exists(key)
    assert s3_store.size(key) == size
    assert s3_store.verify(key, expected)
    with s3_store.open(key) as f:
        assert f.read() == src.read_bytes()
    assert s3_store.local_path(key) is None
    assert list(s3_store.list_keys()) == [key]
    dest = s3_store.fetch(key, tmp_path / "out" / "copy.bin")
    assert hash_file(dest) == expected
    assert [p.name for p in dest.parent.iterdir()] == ["copy.bin"]
    assert s3_store.list_temporaries() == []
    assert s3_store.delete(key) is True
    assert not s3_store.exists(key)
    assert s3_store.delete(key) is False


def test_objects_live_under_the_prefix(
    s3_store: FsspecStore, s3_client, bucket: str, random_file: RandomFile
) -> None:
    s3_store.put_file(random_file("src", 10), "objects/k.txt")
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["prefix/objects/k.txt"]


def test_existing_object_is_not_uploaded_again(
    s3_store: FsspecStore, s3_client, bucket: str, random_file: RandomFile
) -> None:
    src = random_file("src", 1000)
    digest = s3_store.put_file(src, "objects/k")
    before = s3_client.head_object(Bucket=bucket, Key="prefix/objects/k")
    assert s3_store.put_file(src, "objects/k") == digest
    after = s3_client.head_object(Bucket=bucket, Key="prefix/objects/k")
    assert before["LastModified"] == after["LastModified"]


def test_truncated_object_is_replaced(
    s3_store: FsspecStore, s3_client, bucket: str, random_file: RandomFile
) -> None:
    s3_client.put_object(Bucket=bucket, Key="prefix/objects/k", Body=b"half")
    src = random_file("src", 1000)
    digest = s3_store.put_file(src, "objects/k")
    assert s3_store.verify("objects/k", digest)


def test_moto_answers_if_none_match_with_412(
    s3_store: FsspecStore, random_file: RandomFile
) -> None:
    """Create-only PUTs rely on a 412 (moto 5.2.0 answered 500, moto#10018)."""
    src = random_file("src", 100)
    s3_store.put_file(src, "objects/k")
    path = f"{s3_store.root.removeprefix('s3://')}/objects/k"
    with pytest.raises(FileExistsError):
        s3_store.filesystem.put_file(str(src), path, mode="create")


def test_put_folder_round_trip(
    s3_store: FsspecStore, random_file: RandomFile, tmp_path: Path
) -> None:
    src = tmp_path / "folder"
    random_file(src / "a.txt", 1)
    random_file(src / "sub" / "b.bin", MULTIPART)
    expected = hash_folder(src)
    key = object_key_for(expected.sha256)
    seen: list[int] = []
    assert s3_store.put_folder(src, key, progress=seen.append) == expected
    assert sum(seen) == expected.size
    assert s3_store.exists(key)
    assert s3_store.size(key) == expected.size
    assert s3_store.verify(key, expected)
    assert list(s3_store.list_keys(key)) == [f"{key}/a.txt", f"{key}/sub/b.bin"]
    assert s3_store.put_folder(src, key, digest=expected) == expected
    dest = tmp_path / "fetched"
    dest.mkdir()
    (dest / "stale").write_text("x")
    s3_store.fetch(key, dest)
    assert hash_folder(dest) == expected
    assert s3_store.delete(key) is True
    assert not s3_store.exists(key)


def test_fetch_of_missing_key_leaves_nothing(s3_store: FsspecStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        s3_store.fetch("objects/missing", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        s3_store.size("objects/missing")
    with pytest.raises(FileNotFoundError):
        s3_store.open("objects/missing")


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../../b", "", "a\\b"])
def test_invalid_keys(s3_store: FsspecStore, random_file: RandomFile, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        s3_store.put_file(random_file("src", 1), key)


def test_open_refuses_write_modes(s3_store: FsspecStore) -> None:
    with pytest.raises(ValueError, match="read-only"):
        s3_store.open("objects/k", "wb")


def test_open_store_picks_fsspec(moto_url: str, bucket: str) -> None:
    store = open_store(f"s3://{bucket}/a/b/", storage_options={"endpoint_url": moto_url})
    assert isinstance(store, FsspecStore)
    assert store.root == f"s3://{bucket}/a/b"
    with pytest.raises(ValidationError, match="needs a bucket"):
        open_store("s3://", storage_options={"endpoint_url": moto_url})


# Location errors: detected by check() and by put.


def test_missing_bucket_is_a_storage_error(moto_url: str, random_file: RandomFile) -> None:
    with pytest.raises(StorageError, match="'no-such-bucket'.*does not exist") as info:
        open_store("s3://no-such-bucket/p", storage_options={"endpoint_url": moto_url})
    assert isinstance(info.value, OSError)
    store = store_at(moto_url, "no-such-bucket")
    with pytest.raises(StorageError, match="does not exist"):
        store.put_file(random_file("src", 10), "objects/k")


def test_unreachable_endpoint_is_a_storage_error(s3_env: None, random_file: RandomFile) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    options = {
        "endpoint_url": url,
        "key": "AKIDSECRETKEYID",
        "secret": "very-secret-value",
        "config_kwargs": FAST_FAIL,
    }
    with pytest.raises(StorageError, match="cannot reach") as info:
        open_store("s3://bucket/p", storage_options=options)
    message = str(info.value)
    assert url in message and "s3://bucket/p" in message
    assert "AKIDSECRETKEYID" not in message and "very-secret-value" not in message
    store = open_store("s3://bucket/p", storage_options=options, check=False)
    with pytest.raises(StorageError, match="cannot reach"):
        store.put_file(random_file("src", 10), "objects/k")


def test_server_gone_before_put(s3_env: None, random_file: RandomFile, tmp_path: Path) -> None:
    proc, url = start_moto(tmp_path)
    try:
        import boto3

        boto3.client("s3", endpoint_url=url).create_bucket(Bucket="gone")
        store = store_at(url, "gone")
        store.check()
    finally:
        stop_process(proc)
    with pytest.raises(StorageError, match="cannot reach"):
        store.put_file(random_file("src", 10), "objects/k")
    with pytest.raises(StorageError):
        store.check()


# Failures in the middle of an upload.


class Boom(Exception):
    """An error raised from inside an upload."""


def test_failure_mid_multipart_reraises_and_aborts(
    s3_store: FsspecStore, random_file: RandomFile
) -> None:
    src = random_file("src", MULTIPART)
    calls: list[int] = []

    def fail_after_first_part(n: int) -> None:
        calls.append(n)
        raise Boom("injected after one part")

    with pytest.raises(Boom):
        s3_store.put_file(src, "objects/k", progress=fail_after_first_part)
    assert calls
    assert not s3_store.exists("objects/k")
    assert s3_store.list_temporaries() == []
    assert list(s3_store.list_keys()) == []


def test_network_cut_mid_upload(moto_url: str, bucket: str, random_file: RandomFile) -> None:
    """The connection dies mid-upload: the object never appears; the
    multipart upload that could not be aborted is listed and removable."""
    proxy = CuttableProxy(urlsplit(moto_url).port or 0, cut_after=7 << 20)
    through_proxy = store_at(proxy.url, bucket)
    direct = store_at(moto_url, bucket)
    src = random_file("src", MULTIPART)
    with pytest.raises(StorageError, match="cannot reach"):
        through_proxy.put_file(src, "objects/k")
    assert proxy.is_cut.is_set()
    assert not direct.exists("objects/k")
    leftovers = direct.list_temporaries()
    assert [t.key.split("?")[0] for t in leftovers] == ["objects/k"]
    for leftover in leftovers:
        direct.remove_temporary(leftover.key)
    assert direct.list_temporaries() == []
    digest = direct.put_file(src, "objects/k")
    assert direct.verify("objects/k", digest)


def test_failed_folder_upload_removes_its_files(
    s3_store: FsspecStore, random_file: RandomFile, tmp_path: Path
) -> None:
    src = tmp_path / "folder"
    for i in range(4):
        random_file(src / f"f{i}.bin", 100)

    def fail(n: int) -> None:
        raise Boom("injected")

    with pytest.raises(Boom):
        s3_store.put_folder(src, "objects/folder", progress=fail)
    assert list(s3_store.list_keys()) == []
    assert not s3_store.exists("objects/folder")


def test_remove_temporary_rejects_other_keys(s3_store: FsspecStore) -> None:
    with pytest.raises(ValueError, match="not a temporary"):
        s3_store.remove_temporary("objects/k")


def test_moto_server_is_a_real_process(moto_url: str) -> None:
    """Guard: the S3 tests above talk to a separate process over HTTP."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", moto_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        pytest.skip("curl not available")
    assert out.stdout == "200"
