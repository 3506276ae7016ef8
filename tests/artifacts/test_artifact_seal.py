"""Seals: a re-save trusts a stored object untouched since lineage verified it (issue 18).

`lineage.storage.seal`: a durable local store seals each large object once
written, hashed and fsynced; a re-save whose hash equals the recorded one
then only hashes the new file. Every way of changing the object through the
filesystem must break the seal, so that the re-save compares and repairs.
The faults are real: bytes flipped in place (``write``, ``mmap``), the mtime
restored with ``os.utime``, ``chattr +i``, processes killed with SIGKILL in
the middle of a save, a filesystem that keeps whole seconds, and bit rot:
a byte flipped on a loop device's image, behind the filesystem's back.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import REPO, instance_target, write_random
from loop_fs import loop_filesystem

import lineage as ln
from lineage.artifacts.doctor import run_doctor
from lineage.instance import current_instance
from lineage.storage.hashing import FileDigest, hash_file
from lineage.storage.local import LocalStore
from lineage.storage.seal import SEAL_MIN_SIZE, SEAL_WINDOW_NS, is_sealed, seal_fd

LARGE = 3 << 20  # above SEAL_MIN_SIZE and the staging threshold


def stored_path(artifact: Any) -> Path:
    return Path(current_instance().store().local_path(artifact.object_key))


def sealed(artifact: Any) -> bool:
    return is_sealed(os.stat(stored_path(artifact)), artifact.hash, artifact.size)


def past_the_window(path: Path) -> None:
    """Wait until the file's seal is older than `SEAL_WINDOW_NS` (a restored mtime then shows).

    Older on the filesystem's clock: inode times come from the kernel's coarse
    clock, up to a tick behind ``time.time_ns()``, so a probe file beside it
    is touched until its ctime has passed.
    """
    probe = path.parent / f".{path.name}.clock"
    sealed_at = os.stat(path).st_ctime_ns
    try:
        while True:
            probe.touch()
            if os.stat(probe).st_ctime_ns > sealed_at + SEAL_WINDOW_NS:
                return
            time.sleep(0.002)
    finally:
        probe.unlink(missing_ok=True)


def flip_in_place(path: Path, offset: int, how: str) -> None:
    """Flip one byte of `path` without changing its size, as a writer would."""
    st = os.stat(path)
    if how == "mmap":
        with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
            m[offset] ^= 0xFF
            m.flush()
    else:
        with open(path, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0xFF]))
    if how in ("write, mtime restored", "mmap"):
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert os.stat(path).st_mtime_ns == st.st_mtime_ns


# --- the store ---------------------------------------------------------------------------------
def test_durable_store_seals_large_objects_it_writes_and_no_others(tmp_path: Path):
    large, small = write_random(tmp_path / "large.bin", LARGE), write_random(tmp_path / "s.bin", SEAL_MIN_SIZE - 1)
    durable, scratch = LocalStore(tmp_path / "durable"), LocalStore(tmp_path / "scratch", durable=False)
    for store, path, expected in [(durable, large, True), (durable, small, False),
                                  (scratch, large, False)]:
        digest = store.put_file(path, f"objects/{path.name}")
        assert store.trusted(f"objects/{path.name}", digest) is expected, (store, path.name)
    staged = durable.stage(large)
    durable.commit_staged(staged, "objects/staged.bin")
    assert durable.trusted("objects/staged.bin", staged.digest)
    assert not durable.trusted("objects/staged.bin", FileDigest("0" * 64, LARGE))


@pytest.mark.parametrize("how", ["write", "write, mtime restored", "mmap"])
def test_any_write_breaks_the_seal_and_put_file_repairs(tmp_path: Path, how: str):
    store = LocalStore(tmp_path / "store")
    src = write_random(tmp_path / "data.bin", LARGE)
    digest = store.put_file(src, "objects/data.bin")
    path = store.local_path("objects/data.bin")
    past_the_window(path)
    flip_in_place(path, LARGE // 2, how)
    assert not store.trusted("objects/data.bin", digest)
    assert not store.holds("objects/data.bin", digest)
    assert store.put_file(src, "objects/data.bin", digest=digest) == digest
    assert path.read_bytes() == src.read_bytes() and store.trusted("objects/data.bin", digest)


def test_an_intact_unsealed_object_is_hashed_once_then_sealed(tmp_path: Path):
    store = LocalStore(tmp_path / "store")
    digest = store.put_file(write_random(tmp_path / "data.bin", LARGE), "objects/data.bin")
    path = store.local_path("objects/data.bin")
    os.utime(path)  # what an object of an older version looks like: mtime == ctime
    assert not store.trusted("objects/data.bin", digest)
    assert store.holds("objects/data.bin", digest)
    assert store.trusted("objects/data.bin", digest)


def test_a_change_between_the_check_and_the_seal_is_not_sealed(tmp_path: Path):
    store = LocalStore(tmp_path / "store")
    digest = store.put_file(write_random(tmp_path / "data.bin", LARGE), "objects/data.bin")
    path = store.local_path("objects/data.bin")
    os.utime(path)
    checked = os.stat(path)  # the stat a byte compare starts from
    flip_in_place(path, 7, "write, mtime restored")
    assert not store.seal("objects/data.bin", digest, since=checked)
    assert not store.trusted("objects/data.bin", digest)


def test_an_immutable_object_cannot_be_sealed_and_is_hashed_each_time(tmp_path: Path, immutable):
    store = LocalStore(tmp_path / "store")
    src = write_random(tmp_path / "data.bin", LARGE)
    digest = store.put_file(src, "objects/data.bin")
    past_the_window(store.local_path("objects/data.bin"))
    immutable(store.local_path("objects/data.bin"))  # chattr moves ctime: the seal is gone
    assert not store.trusted("objects/data.bin", digest)
    assert store.holds("objects/data.bin", digest)  # by hashing; sealing fails quietly (EPERM)
    assert not store.trusted("objects/data.bin", digest)
    assert store.put_file(src, "objects/data.bin") == digest


def test_whole_second_timestamps_never_seal_and_writes_are_still_found(tmp_path: Path):
    with loop_filesystem(tmp_path / "fs", inode_size=128) as fs:
        store = LocalStore(fs.mount / "store")
        src = write_random(tmp_path / "data.bin", LARGE)
        digest = store.put_file(src, "objects/data.bin")
        assert not store.trusted("objects/data.bin", digest)
        flip_in_place(store.local_path("objects/data.bin"), 11, "write, mtime restored")
        assert not store.holds("objects/data.bin", digest)
        store.put_file(src, "objects/data.bin", digest=digest)
        assert store.verify("objects/data.bin", digest)


def test_bit_rot_keeps_the_seal_until_verify_breaks_it(tmp_path: Path):
    """The limit of a seal, and its remedy: a stat cannot see bytes rotting on the device."""
    with loop_filesystem(tmp_path / "fs") as fs:
        store = LocalStore(fs.mount / "store")
        src = write_random(tmp_path / "data.bin", LARGE)
        digest = store.put_file(src, "objects/data.bin")
        fs.rot(src.read_bytes()[:4096], 100)
        path = store.local_path("objects/data.bin")
        assert path.read_bytes() != src.read_bytes()
        assert store.trusted("objects/data.bin", digest), "no stat shows bit rot"
        assert not store.verify("objects/data.bin", digest)
        assert not store.trusted("objects/data.bin", digest)
        store.put_file(src, "objects/data.bin", digest=digest)
        assert path.read_bytes() == src.read_bytes() and store.trusted("objects/data.bin", digest)


def test_seal_fd_refuses_a_file_of_another_size(tmp_path: Path):
    path = write_random(tmp_path / "data.bin", LARGE)
    digest = hash_file(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert not seal_fd(fd, digest.sha256, LARGE - 1)
        assert seal_fd(fd, digest.sha256, LARGE)
    finally:
        os.close(fd)
    assert is_sealed(os.stat(path), digest.sha256, LARGE)
    assert not is_sealed(os.stat(path), hashlib.sha256(b"other").hexdigest(), LARGE)


# --- re-saving artifacts -----------------------------------------------------------------------
def test_resave_of_a_sealed_object_only_hashes_the_file(sqlite_instance, tmp_path: Path):
    path = write_random(tmp_path / "data.bin", LARGE)
    artifact = ln.Artifact(path, key="data.bin").save()
    assert sealed(artifact)
    before = os.stat(stored_path(artifact))
    again = ln.Artifact(path, key="data.bin")
    assert again.id == artifact.id
    assert again._verified == (artifact.storage_id, artifact.object_key)
    again.save()
    after = os.stat(stored_path(artifact))
    assert (after.st_mtime_ns, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)


@pytest.mark.parametrize("how", ["write", "write, mtime restored", "mmap"])
@pytest.mark.parametrize("others", [0, 1], ids=["one of its size", "two of its size"])
def test_resave_finds_an_object_changed_in_place_and_repairs_it(
        instance, tmp_path: Path, how: str, others: int):
    path = write_random(tmp_path / "data.bin", LARGE)
    original = path.read_bytes()
    artifact = ln.Artifact(path, key="data.bin").save()
    for n in range(others):  # a second object of the size: construction hashes only, save checks
        ln.Artifact(write_random(tmp_path / f"other{n}.bin", LARGE), key=f"other{n}.bin").save()
    stored = stored_path(artifact)
    past_the_window(stored)
    flip_in_place(stored, LARGE // 3, how)
    again = ln.Artifact(path, key="data.bin")
    assert again.id == artifact.id and again._verified is None
    again.save()
    assert stored.read_bytes() == original and sealed(artifact)
    assert ln.Artifact.get(key="data.bin").cache().read_bytes() == original


def test_resave_compares_an_unsealed_object_once_and_seals_it(sqlite_instance, tmp_path: Path):
    path = write_random(tmp_path / "data.bin", LARGE)
    artifact = ln.Artifact(path, key="data.bin").save()
    os.utime(stored_path(artifact))  # as written by a version of lineage without seals
    assert not sealed(artifact)
    again = ln.Artifact(path, key="data.bin")
    assert again._verified == (artifact.storage_id, artifact.object_key)
    assert sealed(artifact)


def test_resave_of_an_immutable_object_compares_it(sqlite_instance, tmp_path: Path, immutable):
    path = write_random(tmp_path / "data.bin", LARGE)
    artifact = ln.Artifact(path, key="data.bin").save()
    past_the_window(stored_path(artifact))
    immutable(stored_path(artifact))
    for _ in range(2):
        again = ln.Artifact(path, key="data.bin")
        assert again._verified == (artifact.storage_id, artifact.object_key)
        assert not sealed(artifact)
        again.save()


def test_bulk_saved_large_objects_are_sealed_once_durable(sqlite_instance, tmp_path: Path):
    paths = [write_random(tmp_path / f"{n}.bin", LARGE + n) for n in range(3)]
    artifacts = [ln.Artifact(p, key=p.name) for p in paths]
    ln.save(artifacts)
    assert all(sealed(a) for a in artifacts)


def test_doctor_verify_finds_bit_rot_and_the_resave_then_repairs(sqlite_instance, tmp_path: Path):
    with loop_filesystem(tmp_path / "fs") as fs:
        ln.settings.storage = str(fs.mount / "storage")
        try:
            path = write_random(tmp_path / "data.bin", LARGE)
            original = path.read_bytes()
            artifact = ln.Artifact(path, key="data.bin").save()
            fs.rot(original[:4096], 5)
            stored = stored_path(artifact)
            assert stored.read_bytes() != original and sealed(artifact)
            assert run_doctor().corrupt == [], "without --verify only sizes are checked"
            report = run_doctor(verify=True)
            assert [c.split(":")[0] for c in report.corrupt] == [f"{artifact.uid} data.bin"]
            assert not sealed(artifact)
            ln.Artifact(path, key="data.bin").save()
            assert stored.read_bytes() == original and sealed(artifact)
            assert run_doctor(verify=True).problems == 0
        finally:
            ln.settings.storage = None


_SAVER = """
import os, sys
import lineage as ln
print("READY", flush=True)
sys.stdin.readline()
ln.Artifact(sys.argv[1], key="big.bin").save()
print("SAVED", flush=True)
"""


def test_no_half_written_object_is_ever_sealed_when_a_save_is_killed(sqlite_instance, tmp_path: Path):
    """SIGKILL at many points of a 32 MiB save: every sealed file holds its content."""
    instance = sqlite_instance
    root = Path(instance.store().root)
    env = {**os.environ, "PYTHONPATH": str(REPO), "LINEAGE_INSTANCE": instance_target(instance)}
    killed = 0
    for n, delay in enumerate([0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3]):
        src = write_random(tmp_path / f"big{n}.bin", 32 << 20)
        digest = hash_file(src)
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(src)], env=env, cwd=str(REPO),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "READY"
        proc.stdin.write("\n")
        proc.stdin.flush()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stdin.close()
        killed += proc.returncode == -signal.SIGKILL
        for file in (p for p in (root / ".tmp").rglob("*") if p.is_file()):
            assert not is_sealed(os.stat(file), digest.sha256, digest.size), file
        for file in (p for p in (root / "objects").rglob("*") if p.is_file()):
            if is_sealed(os.stat(file), file.name[:64], file.stat().st_size):
                assert hash_file(file).sha256 == file.name[:64], file
    assert killed >= 1, "the first child dies before it could have finished"
    again = ln.Artifact(src, key="big.bin").save()
    assert hash_file(stored_path(again)) == digest and sealed(again)
