"""``lineage init/info/settings``: real subprocesses; errors are one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def lineage(*args: str, cwd: Path, config: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_CONFIG_DIR"] = str(config)
    return subprocess.run([sys.executable, "-m", "lineage", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_init_info_and_settings_round_trip(tmp_path):
    cfg = tmp_path / "cfg"
    done = lineage("init", "--storage", "./inst", cwd=tmp_path, config=cfg)
    assert done.returncode == 0, done.stderr
    assert "instance ready" in done.stdout
    info = lineage("info", cwd=tmp_path, config=cfg)
    assert str(tmp_path / "inst") in info.stdout and "SQLite" in info.stdout
    assert lineage("settings", "set", "dev-dir", ".", cwd=tmp_path, config=cfg).returncode == 0
    got = lineage("settings", "get", "dev-dir", cwd=tmp_path, config=cfg)
    assert got.stdout.strip() == str(tmp_path.resolve())


def test_bad_setting_value_is_one_clear_line(tmp_path):
    cfg = tmp_path / "cfg"
    lineage("init", "--storage", "./inst", cwd=tmp_path, config=cfg)
    bad = lineage("settings", "set", "upon-artifact-create-if-hash-exists", "sometimes", cwd=tmp_path, config=cfg)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "warn_return_existing" in lines[0]
    assert "Traceback" not in bad.stderr


def test_unreachable_database_is_one_line_without_password(tmp_path):
    result = lineage("init", "--db", "postgresql://bob:hunter2@127.0.0.1:1/x", "--storage", "./o",
                     cwd=tmp_path, config=tmp_path / "cfg")
    assert result.returncode == 1
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: cannot reach the database postgresql://bob:***@127.0.0.1:1/x")
