"""Several writers storing the same content at once end with one object."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lineage.storage import _fileio
from lineage.storage.base import ObjectStore
from lineage.storage.fsspec_store import FsspecStore
from lineage.storage.hashing import hash_file, hash_folder
from lineage.storage.keys import object_key_for
from lineage.storage.local import LocalStore

from .conftest import RandomFile

WRITERS = 6


def put_concurrently(store: ObjectStore, src: Path, key: str) -> None:
    expected = hash_file(src)
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda _: store.put_file(src, key), range(WRITERS)))
    assert results == [expected] * WRITERS
    assert store.verify(key, expected)
    assert list(store.list_keys()) == [key]
    assert store.list_temporaries() == []


def test_local_same_file(local_store: LocalStore, random_file: RandomFile) -> None:
    src = random_file("src", _fileio.PIPELINE_THRESHOLD + 99)
    put_concurrently(local_store, src, object_key_for(hash_file(src).sha256, ".bin"))


def test_s3_same_file(s3_store: FsspecStore, random_file: RandomFile) -> None:
    src = random_file("src", 2 << 20)
    put_concurrently(s3_store, src, object_key_for(hash_file(src).sha256, ".bin"))


def test_local_same_folder(
    local_store: LocalStore, random_file: RandomFile, tmp_path: Path
) -> None:
    src = tmp_path / "folder"
    for i in range(5):
        random_file(src / f"d{i % 2}" / f"f{i}.bin", 50_000)
    expected = hash_folder(src)
    key = object_key_for(expected.sha256)
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda _: local_store.put_folder(src, key), range(WRITERS)))
    assert results == [expected] * WRITERS
    assert local_store.verify(key, expected)
    assert local_store.list_temporaries() == []
