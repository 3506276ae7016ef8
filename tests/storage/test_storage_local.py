"""LocalStore: round trips, write-once semantics, the fast paths, open_store."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lineage.errors import InvalidKeyError, StorageError, ValidationError
from lineage.storage import _fileio, open_store
from lineage.storage.hashing import hash_bytes, hash_file, hash_folder
from lineage.storage.keys import object_key_for
from lineage.storage.local import LocalStore

from .conftest import RandomFile


def no_temporaries(store: LocalStore) -> bool:
    return store.list_temporaries() == []


@pytest.mark.parametrize(
    "size",
    [0, 1, 1024, _fileio.SMALL_FILE_THRESHOLD + 1, _fileio.PIPELINE_THRESHOLD + 12345],
    ids=["empty", "1B", "1KiB", "blocks", "pipeline"],
)
def test_put_file_round_trip(
    local_store: LocalStore, tmp_path: Path, size: int, random_file: RandomFile
) -> None:
    src = random_file("src.bin", size)
    expected = hash_file(src)
    key = object_key_for(expected.sha256, ".bin")
    seen: list[int] = []
    assert local_store.put_file(src, key, progress=seen.append) == expected
    assert sum(seen) == size
    assert local_store.exists(key)
    assert local_store.size(key) == size
    assert local_store.verify(key, expected)
    with local_store.open(key) as f:
        assert f.read() == src.read_bytes()
    assert local_store.local_path(key) == Path(local_store.root) / key
    assert list(local_store.list_keys()) == [key]
    dest = local_store.fetch(key, tmp_path / "out" / "copy.bin")
    assert hash_file(dest) == expected
    assert no_temporaries(local_store)
    assert local_store.delete(key) is True
    assert not local_store.exists(key)
    assert local_store.delete(key) is False


def test_stored_objects_are_read_only(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = random_file("src", 100)
    local_store.put_file(src, "k/file")
    mode = stat.S_IMODE(os.stat(local_store.local_path("k/file")).st_mode)
    assert mode & 0o222 == 0
    assert src.stat().st_nlink == 1  # never hard-linked to the user's file


@pytest.mark.parametrize("size", [100, 2 << 20, _fileio.PIPELINE_THRESHOLD + 1])
def test_given_digest_is_checked_against_the_bytes_copied(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile, size: int
) -> None:
    src = random_file("src", size)
    digest = hash_file(src)
    assert local_store.put_file(src, "k", digest=digest) == digest
    assert local_store.verify("k", digest)
    with open(src, "r+b") as f:  # same size, other bytes: as if edited after hashing
        f.seek(size // 2)
        f.write(b"X" if f.read(1) != b"X" else b"Y")
    with pytest.raises(ValidationError, match="changed since its content was hashed"):
        local_store.put_file(src, "k2", digest=digest)
    assert not local_store.exists("k2")
    assert no_temporaries(local_store)


def test_digest_of_another_size_is_refused(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = random_file("src", 10)
    stale = hash_bytes(b"old content")
    with pytest.raises(ValidationError, match="changed since it was hashed"):
        local_store.put_file(src, "k", digest=stale)
    assert not local_store.exists("k")


def test_existing_object_of_same_size_is_not_rewritten(
    local_store: LocalStore, random_file: RandomFile
) -> None:
    src = random_file("src", 5000)
    digest = local_store.put_file(src, "k")
    before = os.stat(local_store.local_path("k"))
    assert local_store.put_file(src, "k") == digest
    after = os.stat(local_store.local_path("k"))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert no_temporaries(local_store)


def test_truncated_object_is_replaced(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = random_file("src", 5000)
    final = local_store.local_path("objects/k")
    final.parent.mkdir(parents=True)
    final.write_bytes(b"half")
    digest = local_store.put_file(src, "objects/k")
    assert local_store.verify("objects/k", digest)


def test_verify_detects_corruption(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = random_file("src", 4096)
    digest = local_store.put_file(src, "k")
    path = local_store.local_path("k")
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[2000] ^= 1
    path.write_bytes(bytes(data))
    assert not local_store.verify("k", digest)
    assert not local_store.verify("missing", digest)


def test_source_must_be_a_regular_file(local_store: LocalStore, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="not a regular file"):
        local_store.put_file(fifo, "k")
    with pytest.raises(IsADirectoryError):
        local_store.put_file(tmp_path, "k")
    with pytest.raises(FileNotFoundError):
        local_store.put_file(tmp_path / "missing", "k")
    assert no_temporaries(local_store)


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../../b", "", "a\\b", ".tmp/x"])
def test_invalid_keys_are_refused_before_any_write(
    local_store: LocalStore, random_file: RandomFile, key: str
) -> None:
    src = random_file("src", 10)
    with pytest.raises(InvalidKeyError):
        local_store.put_file(src, key)
    with pytest.raises(InvalidKeyError):
        local_store.exists(key)
    assert list(Path(local_store.root).iterdir()) == []


def test_open_refuses_write_modes(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    local_store.put_file(random_file("src", 10), "k")
    for mode in ("wb", "ab", "r+b", "w"):
        with pytest.raises(ValueError, match="read-only"):
            local_store.open("k", mode)
    with local_store.open("k", "r", encoding="latin-1") as f:
        assert len(f.read()) == 10


def test_source_copied_from_another_filesystem(
    local_store: LocalStore, random_file: RandomFile
) -> None:
    """copy_file_range cannot cross filesystems; the fallback must be exact."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(local_store.root).st_dev:
        pytest.skip("no separate /dev/shm filesystem here")
    src = random_file(shm / f"lineage-test-{os.getpid()}.bin", _fileio.PIPELINE_THRESHOLD + 7)
    try:
        expected = hash_file(src)
        assert local_store.put_file(src, "k") == expected
        assert local_store.verify("k", expected)
    finally:
        src.unlink()


def test_durable_false_gives_the_same_result(tmp_path: Path, random_file: RandomFile) -> None:
    store = LocalStore(tmp_path / "fast", durable=False)
    src = random_file("src", 3 << 20)
    digest = store.put_file(src, "k")
    assert digest == hash_file(src) and store.verify("k", digest)


def test_list_keys_by_prefix(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = random_file("src", 3)
    for key in ["a/1", "a/2", "ab/3", "b/4"]:
        local_store.put_file(src, key)
    assert list(local_store.list_keys("a/")) == ["a/1", "a/2"]
    assert list(local_store.list_keys("a")) == ["a/1", "a/2", "ab/3"]
    assert list(local_store.list_keys("zzz/")) == []
    with pytest.raises(InvalidKeyError):
        list(local_store.list_keys("../"))


def make_folder(root: Path, random_file: RandomFile) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a")
    (root / "sub" / "b.csv").write_bytes(b"b,c\n")
    random_file(root / "sub" / "deeper" / "big.bin", _fileio.PIPELINE_THRESHOLD + 5)
    return root


def test_put_folder_round_trip(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = make_folder(tmp_path / "folder", random_file)
    expected = hash_folder(src)
    key = object_key_for(expected.sha256)
    assert local_store.put_folder(src, key) == expected
    assert local_store.exists(key)
    assert local_store.size(key) == expected.size
    assert local_store.verify(key, expected)
    assert list(local_store.list_keys(key + "/")) == [f"{key}/{e.path}" for e in expected.manifest]
    assert no_temporaries(local_store)
    # Again: nothing is rewritten.
    inode = os.stat(local_store.local_path(key)).st_ino
    assert local_store.put_folder(src, key, digest=expected) == expected
    assert os.stat(local_store.local_path(key)).st_ino == inode
    # Fetch replaces an existing destination as a whole.
    dest = tmp_path / "fetched"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    local_store.fetch(key, dest)
    assert hash_folder(dest) == expected
    assert local_store.delete(key) is True
    assert not local_store.exists(key)
    assert no_temporaries(local_store)


def test_incomplete_folder_object_is_replaced(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = make_folder(tmp_path / "folder", random_file)
    digest = hash_folder(src)
    key = object_key_for(digest.sha256)
    partial = local_store.local_path(key)
    partial.mkdir(parents=True)
    (partial / "a.txt").write_bytes(b"a")
    assert local_store.put_folder(src, key) == digest
    assert local_store.verify(key, digest)
    assert no_temporaries(local_store)


def test_folder_digest_mismatch_is_refused(
    local_store: LocalStore, tmp_path: Path, random_file: RandomFile
) -> None:
    src = make_folder(tmp_path / "folder", random_file)
    digest = hash_folder(src)
    (src / "new.txt").write_text("added after hashing")
    with pytest.raises(ValidationError, match="does not match its digest"):
        local_store.put_folder(src, "f", digest=digest)
    assert not local_store.exists("f")


def test_empty_folder_is_refused(local_store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="contains no files"):
        local_store.put_folder(tmp_path / "empty", "f")


def test_open_store_picks_the_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("data")
    assert isinstance(relative, LocalStore)
    assert relative.root == str(tmp_path / "data") and (tmp_path / "data").is_dir()
    url = open_store(f"file://{tmp_path}/other", durable=False)
    assert isinstance(url, LocalStore) and url.root == str(tmp_path / "other")
    assert url.durable is False
    lazy = open_store(tmp_path / "lazy", check=False)
    assert not (tmp_path / "lazy").exists() and isinstance(lazy, LocalStore)


def test_open_store_on_a_file_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="not a folder"):
        open_store(tmp_path / "file")
    with pytest.raises(ValidationError, match="remote host"):
        open_store("file://otherhost/x")


def test_remove_temporary_only_accepts_temporaries(local_store: LocalStore) -> None:
    for key in ["objects/x", ".tmp", ".tmp/a/b", ".tmp/..", "../.tmp/x"]:
        with pytest.raises(ValueError, match="not a temporary"):
            local_store.remove_temporary(key)
    local_store.remove_temporary(".tmp/already-gone")


def test_writers_creating_the_same_shard_folder_at_once_all_succeed(tmp_path: Path) -> None:
    """The first object of a shard: several writers make its folder at the same moment."""
    import threading

    writers = 8
    for round_ in range(40):
        store = LocalStore(tmp_path / f"store{round_}", durable=False)
        sources = []
        for i in range(writers):
            src = tmp_path / f"src{round_}-{i}.bin"
            src.write_bytes(f"{round_}-{i}".encode() * 64)
            sources.append(src)
        digests = [hash_file(s) for s in sources]
        barrier = threading.Barrier(writers)
        errors: list[BaseException] = []

        def put(i: int) -> None:
            barrier.wait()
            try:  # same shard folder "objects/ab" for every writer
                store.put_file(sources[i], f"objects/ab/{digests[i].sha256}", digest=digests[i])
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=put, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(store.list_keys("objects/ab/")) == sorted(f"objects/ab/{d.sha256}" for d in digests)
