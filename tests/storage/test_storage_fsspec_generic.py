"""FsspecStore on a non-S3 fsspec filesystem (fsspec's in-memory one)."""

from __future__ import annotations

import uuid
from pathlib import Path

from lineage.storage import open_store
from lineage.storage.fsspec_store import FsspecStore
from lineage.storage.hashing import hash_file, hash_folder
from lineage.storage.keys import object_key_for

from .conftest import RandomFile


def test_memory_filesystem_round_trip(random_file: RandomFile, tmp_path: Path) -> None:
    store = open_store(f"memory://bucket-{uuid.uuid4().hex}/prefix")
    assert isinstance(store, FsspecStore)
    src = random_file("src.bin", 3 << 20)
    digest = hash_file(src)
    key = object_key_for(digest.sha256, ".bin")
    assert store.put_file(src, key) == digest
    assert store.put_file(src, key) == digest
    assert store.exists(key) and store.size(key) == digest.size
    assert store.verify(key, digest)
    assert hash_file(store.fetch(key, tmp_path / "out.bin")) == digest
    folder = tmp_path / "folder"
    random_file(folder / "a.txt", 5)
    random_file(folder / "sub" / "b.txt", 7)
    fdigest = hash_folder(folder)
    fkey = object_key_for(fdigest.sha256)
    assert store.put_folder(folder, fkey) == fdigest
    assert store.verify(fkey, fdigest)
    assert list(store.list_keys()) == sorted([key, f"{fkey}/a.txt", f"{fkey}/sub/b.txt"])
    assert store.list_temporaries() == []
    assert store.delete(fkey) and store.delete(key)
    assert list(store.list_keys()) == []
