"""``lineage view`` and ``lineage describe`` on the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import lineage as ln
from lineage.cli import main


def run_cli(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def small(lin):
    raw = lin.artifact("raw.csv")
    run = lin.run("clean.py", "main", inputs=(raw,))
    out = lin.artifact("clean/out.csv", run)
    lin.artifact("clean/out.csv", lin.run("clean.py", "main", inputs=(raw,)))
    return {"raw": raw, "run": run, "out": out}


def test_view_writes_dot_by_key_and_uid(small, tmp_path, capsys):
    target = tmp_path / "graph.dot"
    assert run_cli("view", "raw.csv", "-o", str(target)) == 0
    said = capsys.readouterr().out
    assert f"wrote {target}" in said and "2 runs, 3 artifacts" in said
    assert "clean/out.csv" in target.read_text()
    assert run_cli("view", small["run"].uid[:6], "-o", str(tmp_path / "r.dot"), "--depth", "1",
                   "--no-downstream") == 0
    said = capsys.readouterr().out
    assert "lineage of run" in said and "1 runs, 1 artifacts" in said
    assert "cut at depth 1" not in said  # raw.csv has no creator: nothing was cut


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_view_svg_default_name(small, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_cli("view", "clean/out.csv") == 0
    latest = ln.Artifact.get(key="clean/out.csv")  # the key names its latest version
    assert latest.version == 2
    written = tmp_path / f"lineage-{latest.uid}.svg"
    assert written.exists() and "<svg" in written.read_text()
    assert run_cli("view", "clean.py", "-o", "latest.png") == 0  # a transform key: its latest run
    assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")


def test_view_errors_are_one_line(small, tmp_path, monkeypatch, capsys):
    assert run_cli("view", "no-such-thing", "-o", str(tmp_path / "x.svg")) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no artifact or run matches 'no-such-thing'")
    assert "Traceback" not in err
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert run_cli("view", "raw.csv", "-o", str(tmp_path / "x.svg")) == 1
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and (tmp_path / "x.dot").exists()


def test_describe_command(small, capsys):
    assert run_cli("describe", "raw.csv") == 0
    assert "Artifact raw.csv" in capsys.readouterr().out
    assert run_cli("describe", small["run"].uid) == 0
    assert f"Run {small['run'].uid}" in capsys.readouterr().out
    assert run_cli("describe", "clean.py") == 0
    out = capsys.readouterr().out
    assert "Transform clean.py" in out and "runs: 2" in out


def test_view_in_a_fresh_process(sqlite_instance, tmp_path):
    from graph_helpers import Lineage

    lin = Lineage()
    raw = lin.artifact("raw.csv")
    lin.artifact("out.csv", lin.run("clean.py", inputs=(raw,)))
    env = {**os.environ, "LINEAGE_INSTANCE": str(sqlite_instance.root)}
    done = subprocess.run([sys.executable, "-m", "lineage", "view", "out.csv", "-o",
                           str(tmp_path / "fresh.dot")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "clean.py" in (tmp_path / "fresh.dot").read_text()
