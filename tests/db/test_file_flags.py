"""A SQLite file the file system refuses to change is named in the error, with its fix.

Tests run as root, so only inode flags (``chattr +i``, ``chattr +a``) stop
a write; SQLite then says "disk I/O error" as it would for a failing disk.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import lineage as ln
from lineage.db.file_flags import refused, refused_sqlite_files
from lineage.errors import DatabaseWriteError


@pytest.fixture
def chattr() -> Iterator[Callable[[str, Path], None]]:
    """``chattr(flag, path)`` sets ``+flag`` until the end of the test (skips where unsupported)."""
    done: list[tuple[str, Path]] = []

    def set_flag(flag: str, path: Path) -> None:
        result = subprocess.run(["chattr", f"+{flag}", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"chattr +{flag} does not work here: {result.stderr.strip()}")
        done.append((flag, path))

    yield set_flag
    for flag, path in done:
        subprocess.run(["chattr", f"-{flag}", str(path)], check=False)


def test_flags_are_read_from_the_inode(tmp_path, chattr):
    plain, frozen, appended = (tmp_path / name for name in ("plain", "frozen", "appended"))
    for path in (plain, frozen, appended):
        path.write_text("x")
    chattr("i", frozen)
    chattr("a", appended)
    assert (refused(plain), refused(frozen), refused(appended)) == (None, "immutable", "append-only")
    assert refused(tmp_path / "missing") is None
    assert refused_sqlite_files(plain) == []


def test_an_immutable_write_ahead_log_is_named_instead_of_a_full_disk(sqlite_instance, tmp_path, chattr):
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")
    ln.Artifact(data, key="data.csv").save()
    wal = tmp_path / "storage" / "lineage.db-wal"
    chattr("i", wal)
    data.write_text("a\n2\n")
    with pytest.raises(DatabaseWriteError) as raised:
        ln.Artifact(data, key="data.csv").save()
    message = str(raised.value)
    assert f"read-only, {wal} is immutable" in message and f"chattr -i {wal}" in message
    assert "Free space" not in message
    subprocess.run(["chattr", "-i", str(wal)], check=True)
    ln.Artifact(data, key="data.csv").save()  # the fix the message names is enough
    assert len(ln.Artifact.get(key="data.csv").versions) == 2
