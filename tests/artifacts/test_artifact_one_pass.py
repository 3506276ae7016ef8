"""One pass, and the bytes stored are the bytes hashed (issue 10 items 1-2, issue 18).

The faults are real: another process rewrites the file between
``ln.Artifact(path)`` and ``save()`` with the same size and its old
modification time (what a stat check cannot see), a stored object is
overwritten on disk or in the bucket, a process is killed with SIGKILL after
construction, and RLIMIT_FSIZE cuts the staging copy.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import (
    assert_no_trace,
    child_result,
    run_child,
    snapshot,
    temporaries,
    write,
    write_random,
)

import lineage as ln
from lineage.artifacts.content import STAGE_THRESHOLD
from lineage.errors import ValidationError
from lineage.instance import current_instance

SMALL = 64 << 10
LARGE = 3 << 20  # above STAGE_THRESHOLD


def rewrite_in_another_process(path: Path, offset: int = 0) -> None:
    """Overwrite bytes of `path` in a child process, keeping its size and mtime."""
    code = (
        "import os, sys\n"
        "p, off = sys.argv[1], int(sys.argv[2])\n"
        "st = os.stat(p)\n"
        "with open(p, 'r+b') as f:\n"
        "    f.seek(off); old = f.read(16); f.seek(off)\n"
        "    f.write(bytes(b ^ 0xFF for b in old))\n"
        "os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(offset)], check=True)


def stored_bytes(artifact: Any) -> bytes:
    return Path(current_instance().store().local_path(artifact.object_key)).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_thresholds_are_what_these_tests_assume():
    assert SMALL < STAGE_THRESHOLD < LARGE


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_file_changed_after_construction_is_refused_or_stored_as_hashed(
        instance, tmp_path: Path, size: int):
    original = write_random(tmp_path / "original.bin", size).read_bytes()
    path = write(tmp_path / "data.bin", original)
    if size == LARGE:  # a same-size artifact exists, so construction only hashes
        ln.Artifact(write_random(tmp_path / "other.bin", size), key="other.bin").save()
    before = snapshot()
    artifact = ln.Artifact(path, key="data.bin")
    rewrite_in_another_process(path, size // 2)
    with pytest.raises(ValidationError) as excinfo:
        artifact.save()
    message = str(excinfo.value)
    assert str(path) in message and "changed since its content was hashed" in message
    assert "nothing was saved" in message
    assert_no_trace(before=before)
    # the genuine content, saved later, gets its own correct object
    genuine = ln.Artifact(write(tmp_path / "genuine.bin", original), key="genuine.bin").save()
    assert genuine.hash == sha(original) and stored_bytes(genuine) == original


def test_staged_file_is_read_once_and_stored_as_it_was_hashed(instance, tmp_path: Path):
    path = write_random(tmp_path / "big.bin", LARGE)
    original = path.read_bytes()
    artifact = ln.Artifact(path, key="big.bin")
    assert artifact._staged is not None and len(temporaries()) == 1
    rewrite_in_another_process(path, 100)
    path.unlink()  # save() does not read the file again
    artifact.save()
    assert artifact.hash == sha(original) and stored_bytes(artifact) == original
    assert temporaries() == []
    assert ln.Artifact.get(key="big.bin").cache().read_bytes() == original


def test_unsaved_staged_copy_is_removed_when_dropped(instance, tmp_path: Path):
    artifact = ln.Artifact(write_random(tmp_path / "big.bin", LARGE), key="big.bin")
    assert len(temporaries()) == 1
    del artifact
    gc.collect()
    assert temporaries() == []


def test_staged_copy_of_a_killed_process_is_swept_by_doctor(instance, tmp_path: Path):
    from lineage.artifacts.doctor import run_doctor

    path = write_random(tmp_path / "big.bin", LARGE)
    proc = run_child(instance, f"""
        import os, signal
        import lineage as ln
        artifact = ln.Artifact({str(path)!r}, key="big.bin")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert proc.returncode == -signal.SIGKILL
    assert len(temporaries()) == 1 and ln.Artifact.objects_unhidden().count() == 0
    assert run_doctor(fix=False).problems == 0, "young leftovers are left alone"
    report = run_doctor(fix=True, grace_seconds=0)
    assert len(report.temporaries) == 1 and report.exit_code == 0
    assert_no_trace()


def test_file_size_limit_while_staging_leaves_nothing(instance, tmp_path: Path):
    path = write_random(tmp_path / "big.bin", LARGE)
    result = child_result(run_child(instance, f"""
        import json, resource
        import lineage as ln
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        try:
            ln.Artifact({str(path)!r}, key="big.bin")
            out = {{"raised": None}}
        except OSError as exc:
            out = {{"raised": type(exc).__name__, "errno": exc.errno}}
        print("RESULT " + json.dumps(out))
    """))
    assert result == {"raised": "OSError", "errno": errno.EFBIG}
    assert_no_trace()


def test_folder_whose_member_changed_is_refused(instance, tmp_path: Path):
    folder = tmp_path / "folder"
    write(folder / "a.txt", "alpha")
    write(folder / "deep" / "b.txt", "bravo")
    artifact = ln.Artifact(folder, key="folder")
    rewrite_in_another_process(folder / "deep" / "b.txt", 0)
    with pytest.raises(ValidationError, match=r"deep/b\.txt changed since its content was hashed"):
        artifact.save()
    assert_no_trace()


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_resaving_the_original_repairs_a_same_size_corrupt_object(
        instance, tmp_path: Path, size: int):
    path = write_random(tmp_path / "data.bin", size)
    original = path.read_bytes()
    artifact = ln.Artifact(path, key="data.bin").save()
    stored = current_instance().store().local_path(artifact.object_key)
    corrupt = bytearray(original)
    corrupt[size // 3] ^= 0xFF
    stored.write_bytes(bytes(corrupt))  # root writes through the 0444 mode
    assert stored.stat().st_size == size
    again = ln.Artifact(path, key="data.bin")
    assert again.id == artifact.id
    again.save()
    assert stored.read_bytes() == original
    assert ln.Artifact.get(key="data.bin").cache().read_bytes() == original


def test_resaving_an_intact_large_object_reads_it_while_hashing(instance, tmp_path: Path):
    path = write_random(tmp_path / "data.bin", LARGE)
    artifact = ln.Artifact(path, key="data.bin").save()
    again = ln.Artifact(path, key="data.bin")
    assert again._verified == (artifact.storage_id, artifact.object_key)
    mtime = current_instance().store().local_path(artifact.object_key).stat().st_mtime_ns
    again.save()
    assert current_instance().store().local_path(artifact.object_key).stat().st_mtime_ns == mtime


def test_resaving_repairs_a_corrupt_folder_member(instance, tmp_path: Path):
    folder = tmp_path / "folder"
    write(folder / "a.txt", "alpha")
    write(folder / "b.txt", "bravo")
    artifact = ln.Artifact(folder, key="folder").save()
    member = current_instance().store().local_path(artifact.object_key) / "b.txt"
    member.write_bytes(b"BRAVO")
    ln.Artifact(folder, key="folder").save()
    assert member.read_bytes() == b"bravo"


_BLOCK = 4 << 20  # lineage.artifacts.content._COMPARE_BLOCK


@pytest.mark.parametrize("size", [0, 1, _BLOCK - 1, _BLOCK, _BLOCK + 1, 2 * _BLOCK + 7])
def test_hash_and_compare_digests_every_byte_and_finds_any_difference(tmp_path, size):
    """Each block's digest and comparison use that block's bytes only, at every block edge."""
    import hashlib
    import os

    from lineage.artifacts.content import hash_and_compare

    data = os.urandom(size)
    path, other = tmp_path / "f.bin", tmp_path / "o.bin"
    path.write_bytes(data)
    other.write_bytes(data)
    digest, same = hash_and_compare(path, other)
    assert (digest.sha256, digest.size, same) == (hashlib.sha256(data).hexdigest(), size, True)
    if size:
        changed = bytearray(data)
        changed[-1] ^= 1  # in the last (short or full) block
        other.write_bytes(bytes(changed))
        assert hash_and_compare(path, other) == (digest, False)
        other.write_bytes(data[:-1])
        assert hash_and_compare(path, other) == (digest, False)
    other.write_bytes(data + b"x")
    assert hash_and_compare(path, other) == (digest, False)
    other.unlink()
    assert hash_and_compare(path, other) == (digest, False)
