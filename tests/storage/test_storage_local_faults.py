"""LocalStore under real faults: immutable folders, file size limits, kills.

Tests run as root, so ``chmod`` stops nothing; ``chattr +i`` does. The file
size limit (``RLIMIT_FSIZE``) is set in a child process: Python ignores
SIGXFSZ, so a write past the limit fails with EFBIG; with SIGXFSZ back to its
default action, the child is killed in the middle of the write instead.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lineage.storage import _fileio
from lineage.storage.hashing import hash_file, hash_folder
from lineage.storage.keys import object_key_for
from lineage.storage.local import LocalStore

from .conftest import RandomFile

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make ``path`` immutable with ``chattr +i`` (skip if unsupported here)."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i does not work on this filesystem: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def assert_nothing_left(store: LocalStore, key: str) -> None:
    assert store.list_temporaries() == []
    assert not store.exists(key)


SIZES = pytest.mark.parametrize(
    "size",
    [1000, _fileio.SMALL_FILE_THRESHOLD * 3, _fileio.PIPELINE_THRESHOLD + 1],
    ids=["one-go", "blocks", "pipeline"],
)


@SIZES
def test_rename_into_immutable_folder_raises_permission_error(
    local_store: LocalStore, random_file: RandomFile, size: int
) -> None:
    src = random_file("src", size)
    key = object_key_for(hash_file(src).sha256, ".bin")
    shard = local_store.local_path(key).parent
    shard.mkdir(parents=True)
    with immutable(shard), pytest.raises(OSError) as info:
        local_store.put_file(src, key)
    assert type(info.value) is PermissionError
    assert_nothing_left(local_store, key)


def test_immutable_temporary_folder_raises_permission_error(
    local_store: LocalStore, random_file: RandomFile
) -> None:
    src = random_file("src", 1000)
    tmp = Path(local_store.root) / ".tmp"
    tmp.mkdir()
    with immutable(tmp), pytest.raises(OSError) as info:
        local_store.put_file(src, "objects/k")
    assert type(info.value) is PermissionError
    assert_nothing_left(local_store, "objects/k")


def test_immutable_root_raises_permission_error(
    local_store: LocalStore, random_file: RandomFile
) -> None:
    src = random_file("src", 1000)
    with immutable(Path(local_store.root)), pytest.raises(PermissionError):
        local_store.put_file(src, "objects/k")
    assert_nothing_left(local_store, "objects/k")


def test_folder_into_immutable_parent_leaves_nothing(
    local_store: LocalStore, random_file: RandomFile, tmp_path: Path
) -> None:
    src = tmp_path / "folder"
    random_file(src / "a.bin", 10)
    random_file(src / "sub" / "b.bin", _fileio.PIPELINE_THRESHOLD + 1)
    key = object_key_for(hash_folder(src).sha256)
    shard = local_store.local_path(key).parent
    shard.mkdir(parents=True)
    with immutable(shard), pytest.raises(OSError) as info:
        local_store.put_folder(src, key)
    assert type(info.value) is PermissionError
    assert_nothing_left(local_store, key)


def test_fetch_into_immutable_folder_leaves_nothing(
    local_store: LocalStore, random_file: RandomFile, tmp_path: Path
) -> None:
    local_store.put_file(random_file("src", 5000), "objects/k")
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    (dest_dir / "copy.bin").write_bytes(b"previous")
    with immutable(dest_dir), pytest.raises(OSError) as info:
        local_store.fetch("objects/k", dest_dir / "copy.bin")
    assert type(info.value) is PermissionError
    assert sorted(p.name for p in dest_dir.iterdir()) == ["copy.bin"]
    assert (dest_dir / "copy.bin").read_bytes() == b"previous"


CHILD = """
import json, os, resource, signal, sys
from lineage.storage.local import LocalStore

root, src, key, limit, action = sys.argv[1:]
store = LocalStore(root)
if action == "sigxfsz":
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
if action == "sigkill":
    progress = lambda n: os.kill(os.getpid(), signal.SIGKILL)
else:
    progress = None
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
try:
    if os.path.isdir(src):
        store.put_folder(src, key, progress=progress)
    else:
        store.put_file(src, key, progress=progress)
    print(json.dumps({"ok": True}))
except BaseException as exc:
    print(json.dumps({"type": type(exc).__name__, "errno": getattr(exc, "errno", None)}))
"""


def run_child(store: LocalStore, src: Path, key: str, limit: int, action: str) -> tuple[int, dict]:
    """Run a put in a child process under a fault; return its code and report."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, store.root, str(src), key, str(limit), action],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report


@SIZES
def test_file_size_limit_reraises_efbig_and_leaves_nothing(
    local_store: LocalStore, random_file: RandomFile, size: int
) -> None:
    src = random_file("src", size)
    key = object_key_for(hash_file(src).sha256, ".bin")
    code, report = run_child(local_store, src, key, size // 2, "efbig")
    assert code == 0
    assert report == {"type": "OSError", "errno": errno.EFBIG}
    assert_nothing_left(local_store, key)


@SIZES
def test_killed_mid_write_never_shows_a_final_object(
    local_store: LocalStore, random_file: RandomFile, size: int
) -> None:
    src = random_file("src", size)
    digest = hash_file(src)
    key = object_key_for(digest.sha256, ".bin")
    code, report = run_child(local_store, src, key, size // 2, "sigxfsz")
    assert code == -signal.SIGXFSZ, report
    assert not local_store.exists(key)
    leftovers = local_store.list_temporaries()
    assert len(leftovers) == 1
    # Saving the same content again completes it; the doctor removes the leftover.
    assert local_store.put_file(src, key) == digest
    assert local_store.verify(key, digest)
    for leftover in leftovers:
        local_store.remove_temporary(leftover.key)
    assert local_store.list_temporaries() == []


def test_sigkill_mid_pipeline_copy(local_store: LocalStore, random_file: RandomFile) -> None:
    src = random_file("src", _fileio.PIPELINE_THRESHOLD * 2)
    digest = hash_file(src)
    key = object_key_for(digest.sha256, ".bin")
    code, _ = run_child(local_store, src, key, 0, "sigkill")
    assert code == -signal.SIGKILL
    assert not local_store.exists(key)
    assert len(local_store.list_temporaries()) == 1
    assert local_store.put_file(src, key) == digest


def test_sigkill_mid_folder_leaves_only_a_temporary(
    local_store: LocalStore, random_file: RandomFile, tmp_path: Path
) -> None:
    src = tmp_path / "folder"
    for i in range(3):
        random_file(src / f"f{i}.bin", 2000)
    digest = hash_folder(src)
    key = object_key_for(digest.sha256)
    code, _ = run_child(local_store, src, key, 0, "sigkill")
    assert code == -signal.SIGKILL
    assert not local_store.exists(key)
    [leftover] = local_store.list_temporaries()
    assert local_store.put_folder(src, key) == digest
    local_store.remove_temporary(leftover.key)
    assert local_store.list_temporaries() == []
    assert local_store.verify(key, digest)


def test_source_growing_during_copy_is_refused(
    local_store: LocalStore, random_file: RandomFile
) -> None:
    """A writer appending while we copy: nothing is stored, nothing is left."""
    src = random_file("src", _fileio.PIPELINE_THRESHOLD * 2)
    appended = []

    def append_once(n: int) -> None:
        if not appended:
            with open(src, "ab") as f:
                f.write(b"late bytes")
            appended.append(n)

    with pytest.raises(ValueError, match="changed while it was being stored"):
        local_store.put_file(src, "objects/k", progress=append_once)
    assert_nothing_left(local_store, "objects/k")
