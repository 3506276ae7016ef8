"""Content identity: full SHA-256 plus size, for files, buffers and folders."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from lineage.errors import ValidationError
from lineage.storage.hashing import (
    FOLDER_MANIFEST_HEADER,
    BLOCK_SIZE,
    SMALL_READ,
    FileDigest,
    FolderEntry,
    hash_bytes,
    hash_file,
    hash_folder,
    manifest_bytes,
)

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_hash_bytes_known_vector() -> None:
    assert hash_bytes(b"abc") == FileDigest(ABC_SHA256, 3)
    assert hash_bytes(memoryview(b"xabcx")[1:4]) == FileDigest(ABC_SHA256, 3)


def test_hash_file_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert hash_file(path) == FileDigest(hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize("size", [1, SMALL_READ - 1, SMALL_READ, SMALL_READ + 1,
                                  BLOCK_SIZE + SMALL_READ, BLOCK_SIZE + SMALL_READ + 1])
def test_hash_file_around_the_first_read_and_the_block_size(tmp_path: Path, size: int) -> None:
    """A small file is read in one piece, a larger one in blocks after its first read."""
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    seen: list[int] = []
    assert hash_file(path, seen.append) == FileDigest(hashlib.sha256(data).hexdigest(), size)
    assert sum(seen) == size


def test_hash_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hash_file(path) == FileDigest(EMPTY_SHA256, 0)


def test_hash_file_of_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        hash_file(tmp_path)


def test_large_files_differing_in_one_middle_byte_differ(tmp_path: Path) -> None:
    """LaminDB hashes only the first and last 50 MiB; we hash everything."""
    size = 120 << 20
    block = os.urandom(1 << 20)
    a = tmp_path / "a.bin"
    with open(a, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)
    b = tmp_path / "b.bin"
    shutil.copyfile(a, b)
    with open(b, "r+b") as f:
        f.seek(size // 2)
        byte = f.read(1)
        f.seek(size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    da, db = hash_file(a), hash_file(b)
    assert da.size == db.size == size
    assert da.sha256 != db.sha256


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {"b.txt": b"bee", "a/x.csv": b"1,2\n", "a/y/z.bin": b"\x00" * 10}


def test_folder_digest_is_deterministic_and_location_free(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", TREE)
    two = make_tree(tmp_path / "two", dict(reversed(list(TREE.items()))))
    d1, d2 = hash_folder(one), hash_folder(two)
    assert d1 == d2
    assert [e.path for e in d1.manifest] == ["a/x.csv", "a/y/z.bin", "b.txt"]
    assert d1.size == sum(len(v) for v in TREE.values())
    assert d1.n_files == 3
    assert d1.manifest[2] == FolderEntry("b.txt", hashlib.sha256(b"bee").hexdigest(), 3)


def test_folder_manifest_format_is_stable(tmp_path: Path) -> None:
    """The folder hash is part of stored keys: its format must not drift."""
    digest = hash_folder(make_tree(tmp_path / "t", {"a.txt": b"abc"}))
    expected = FOLDER_MANIFEST_HEADER + f'[["a.txt","{ABC_SHA256}",3]]'.encode()
    assert manifest_bytes(digest.manifest) == expected
    assert digest.sha256 == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"b.txt": b"bef"},  # content
        {"b.txt": b"beee"},  # size
        {"c.txt": b""},  # an extra empty file
    ],
)
def test_folder_digest_sees_every_change(tmp_path: Path, change: dict[str, bytes]) -> None:
    base = hash_folder(make_tree(tmp_path / "base", TREE))
    changed = hash_folder(make_tree(tmp_path / "changed", {**TREE, **change}))
    assert changed.sha256 != base.sha256


def test_folder_digest_sees_a_rename(tmp_path: Path) -> None:
    base = hash_folder(make_tree(tmp_path / "base", TREE))
    renamed = dict(TREE)
    renamed["c.txt"] = renamed.pop("b.txt")
    assert hash_folder(make_tree(tmp_path / "renamed", renamed)).sha256 != base.sha256


def test_large_folder_hashes_in_parallel_to_the_same_digest(tmp_path: Path) -> None:
    files = {f"f{i}.bin": os.urandom(3 << 20) for i in range(4)}
    root = make_tree(tmp_path / "big", files)
    assert hash_folder(root) == hash_folder(root, max_workers=1)


def test_empty_folder_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / "only" / "subfolders").mkdir(parents=True)
    with pytest.raises(ValidationError, match="contains no files"):
        hash_folder(tmp_path / "empty")


def test_fifo_in_folder_is_a_validation_error(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "f", {"a.txt": b"a"})
    os.mkfifo(root / "pipe")
    with pytest.raises(ValidationError, match="not a regular file"):
        hash_folder(root)


def test_symlink_cycle_is_a_validation_error(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "c", {"a.txt": b"a"})
    (root / "loop").symlink_to(root, target_is_directory=True)
    with pytest.raises(ValidationError, match="cycle"):
        hash_folder(root)


def test_symlinked_file_counts_as_its_content(tmp_path: Path) -> None:
    plain = make_tree(tmp_path / "plain", {"a.txt": b"data"})
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a.txt").symlink_to(plain / "a.txt")
    assert hash_folder(linked) == hash_folder(plain)
