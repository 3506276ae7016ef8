"""Every CLI error is one line and a non-zero exit; database write faults are named.

Tests run as root, so ``chmod`` stops nothing: ``chattr +i`` makes the
SQLite file really read-only; on PostgreSQL the database is switched to
read-only transactions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lineage as ln
import lineage.instance as instance_module
from lineage.errors import DatabaseWriteError, LineageError


def lineage(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    full["LINEAGE_CONFIG_DIR"] = str(cwd / "cfg")
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "lineage", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


@pytest.fixture
def chattr():
    changed: list[Path] = []

    def immutable(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {done.stderr.strip()}")
        changed.append(path)

    yield immutable
    for path in changed:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_read_only_sqlite_database_ends_save_in_one_line(tmp_path, chattr):
    assert lineage("init", "--storage", "./inst", cwd=tmp_path).returncode == 0
    (tmp_path / "data.csv").write_text("a\n1\n")
    chattr(tmp_path / "inst" / "lineage.db")
    line = one_error_line(lineage("save", "data.csv", "--key", "raw/data.csv", cwd=tmp_path))
    assert "read-only" in line and str(tmp_path / "inst" / "lineage.db") in line
    assert "chattr -i" in line


def test_read_only_sqlite_database_raises_a_lineage_error_in_python(sqlite_instance, tmp_path, chattr):
    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    instance_module.close()
    chattr(tmp_path / "storage" / "lineage.db")
    ln.connect(tmp_path / "storage")
    with pytest.raises(DatabaseWriteError, match="read-only"):
        ln.Artifact(path, key="raw/data.csv").save()
    objects = tmp_path / "storage" / "objects"
    assert not objects.exists() or not any(p.is_file() for p in objects.rglob("*"))


def test_read_only_postgresql_database_is_named(fresh_postgres_db, tmp_path):
    import psycopg

    ln.init(storage=tmp_path / "objects", db=fresh_postgres_db)
    instance_module.close()
    with psycopg.connect(fresh_postgres_db, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    (tmp_path / "data.csv").write_text("a\n1\n")
    env = {"LINEAGE_INSTANCE": fresh_postgres_db}
    line = one_error_line(lineage("save", "data.csv", "--key", "raw/data.csv", cwd=tmp_path, env=env))
    assert "read-only" in line and "postgresql://" in line


def test_os_errors_are_one_line(tmp_path):
    assert lineage("init", "--storage", "./inst", cwd=tmp_path).returncode == 0
    (tmp_path / "data.csv").write_text("a\n1\n")
    assert lineage("save", "data.csv", "--key", "raw/data.csv", cwd=tmp_path).returncode == 0
    line = one_error_line(lineage("view", "raw/data.csv", "-o", "data.csv/x.dot", cwd=tmp_path))
    assert "data.csv" in line


def test_error_messages_with_several_lines_are_joined(tmp_path):
    from lineage.cli import one_line

    assert one_line(LineageError("first\n  second\n\nthird")) == "first second third"
