"""Checks of the benchmark harness's own logic (no timings are asserted).

    python -m pytest benchmarks/test_harness.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import run  # noqa: E402
from report import Cell  # noqa: E402


def test_error_text_takes_the_exception_line():
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "    ln.track()\n"
        "AttributeError: module 'lineage' has no attribute 'track'\n"
    )
    expected = "AttributeError: module 'lineage' has no attribute 'track'"
    assert run.error_text("", stderr, 1) == expected


def test_error_text_keeps_chained_exceptions_of_the_last_traceback():
    stderr = (
        "Traceback (most recent call last):\n  File 'a'\nsocket.gaierror: [Errno -2] x\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  File 'b'\n"
        "urllib.error.URLError: <urlopen error [Errno -2] Name or service not known>\n"
    )
    assert run.error_text("", stderr, 1).startswith("urllib.error.URLError: <urlopen error")


def test_error_text_without_traceback_names_the_exit_code():
    assert run.error_text("", "killed\n", -9) == "exit code -9: killed"


def test_run_proc_reads_result_rss_and_errors(tmp_path):
    ok = run.run_proc(
        [sys.executable, "-c", "print('noise'); print('BENCH_RESULT ' + '{\"x\": 1}')"],
        tmp_path, {}, timeout=60,
    )
    assert ok.error is None and ok.result == {"x": 1}
    assert ok.maxrss_mib is None and ok.wall_s > 0  # memory only when asked
    bad = run.run_proc([sys.executable, "-c", "raise KeyError('k')"], tmp_path, {}, timeout=60)
    assert bad.error == "KeyError: 'k'"
    silent = run.run_proc([sys.executable, "-c", "pass"], tmp_path, {}, timeout=60)
    assert silent.error.startswith("no result line")
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    slow = run.run_proc(sleep, tmp_path, {}, timeout=0.5)
    assert slow.error.startswith("timed out after")


def test_peak_memory_is_the_child_s_own_not_the_harness_s(tmp_path):
    """A child forked from a big harness reads its own peak, not the harness's."""
    if run.GNU_TIME is None:
        pytest.skip(run.NO_RSS)
    ballast = bytearray(300 * 2**20)  # the harness now holds 300 MiB more
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    small = run.run_proc([sys.executable, "-c", "print('BENCH_RESULT {}')"], tmp_path, {},
                         timeout=60, measure_rss=True)
    big = run.run_proc(
        [sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'1' * len(b[::4096]);"
         " print('BENCH_RESULT {}')"], tmp_path, {}, timeout=60, measure_rss=True)
    del ballast
    assert small.error is None and big.error is None
    assert 1 < small.maxrss_mib < 100, small.maxrss_mib
    assert 200 < big.maxrss_mib < 300, big.maxrss_mib
    slow = run.run_proc([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {},
                        timeout=0.5, measure_rss=True)
    assert slow.error.startswith("timed out after") and slow.maxrss_mib is None


def test_make_data_is_reused(tmp_path):
    a = run.make_data(tmp_path, 1000, 3, 10)
    assert Path(a["big"]).stat().st_size == 1000
    assert len(list(Path(a["small_a"]).iterdir())) == 3
    before = Path(a["big"]).read_bytes()
    b = run.make_data(tmp_path, 1000, 3, 10)
    assert Path(b["big"]).read_bytes() == before


def test_cell_median_and_error():
    assert Cell(samples=[3, 1, 2]).median() == 2
    failed = Cell(samples=[1.0], error="boom")
    assert failed.median() is None
    assert failed.as_dict()["error"] == "boom"
    assert Cell().as_dict() == {"error": "not measured"}


def test_ratio_and_formatting():
    assert report.ratio(2.0, 0.5) == 4.0
    assert report.ratio(None, 1.0) is None and report.ratio(1.0, 0.0) is None
    assert report.fmt_value(0.0123, "s") == "12.3 ms"
    assert report.fmt_value(2.5, "s") == "2.50 s"
    assert report.fmt_value(4e-5, "s") == "40 us"
    assert report.fmt_ratio(37.4) == "37.4x"


def _results(cells):
    sizes = run.sizes_for(run.parse_args(["--quick"]))
    tools = {
        "lineage": {"available": True, "version": "0.1.0"},
        "lamindb": {"available": True, "version": "2.12.1"},
        "mlflow": {"available": False, "error": "pip install mlflow failed: ERROR: no"},
    }
    return {
        "date": "today", "mode": "quick", "settings": {"repeats": 3, "heavy_repeats": 1},
        "sizes": sizes, "machine": report.machine(), "tools": tools,
        "tools_run": list(tools), "timing": {"benchmark_s": 1, "env_s": 0},
        "offline_checks": {}, "notes": [], "cells": cells,
    }


def test_table_shows_medians_ratios_and_error_text():
    cells = {
        "import.process_s": {"lineage": Cell(samples=[0.1, 0.2, 0.1]),
                             "lamindb": Cell(samples=[1.0, 1.0, 1.2])},
        "script.tracked_s": {"lineage": Cell(error="AttributeError: no 'track'"),
                             "lamindb": Cell(samples=[2.0])},
        "lineage.walk_s": {"lamindb": Cell(samples=[0.1]), "lineage": Cell(na="n/a (why)")},
    }
    doc = report.build(_results(cells))
    json.dumps(doc, default=str)
    row = next(r for r in doc["metrics"] if r["id"] == "import.process_s")
    assert row["ratios"]["lamindb/lineage"] == 10.0
    text = report.table(doc)
    assert "10.0x" in text
    assert "lineage: not available: AttributeError: no 'track'" in text
    assert "mlflow: not available: pip install mlflow failed: ERROR: no" in text
    assert "lineage: n/a (why)" in text


def test_workload_names_do_not_shadow_the_tools_packages():
    # a workload named like a real module (lamindb_setup!) would be imported
    # instead of it, since the script's folder comes first on sys.path
    names = {p.stem for p in run.WORKLOADS.glob("*.py")}
    assert not names & {"lamindb_setup", "lamindb_core", "lamin_cli", "lamindb", "mlflow",
                        "lineage", "mlflow_skinny", "mlflow_tracing"}
    for tool in report.TOOLS:
        for workload in ("import", "init", "script", "steps", "saves", "offline"):
            assert f"{tool}_{workload}" in names


def test_parse_spec():
    assert run.parse_spec("lamindb==2.12.1") == ("lamindb", "lamindb==2.12.1")
    assert run.parse_spec("mlflow<3.18") == ("mlflow", "mlflow<3.18")
    assert run.parse_spec("lineage=/tmp/l.whl") == ("lineage", "/tmp/l.whl")


def _top_level_functions(path: Path) -> set[str]:
    import ast

    return {node.name for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.FunctionDef)}


def test_chain_steps_are_defined_at_module_level():
    # LaminDB draws a run with its step's qualified name: "<locals>" breaks graphviz
    for tool in ("lineage", "lamindb"):
        assert {"link", "chain"} <= _top_level_functions(run.WORKLOADS / f"{tool}_chain.py")


def test_mlflow_saves_again_to_a_new_path():
    import re

    text = (run.WORKLOADS / "mlflow_saves.py").read_text()
    paths = re.findall(r'artifact_path="([^"]+)"', text)
    assert len(paths) == len(set(paths)) == 5, paths


def _concurrency_bench(*args: str, env: dict | None = None):
    import os
    import subprocess

    return subprocess.run([sys.executable, str(run.BENCH_DIR / "concurrency_bench.py"), *args],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(run.BENCH_DIR.parent), **(env or {})})


def test_concurrency_bench_refuses_short_runs():
    proc = _concurrency_bench("--steps", "200")
    assert proc.returncode == 2 and "at least 1000" in proc.stderr


def test_concurrency_bench_leaves_nothing_behind(tmp_path):
    import os

    url = os.environ.get("LINEAGE_TEST_POSTGRES_URL", "")

    def databases() -> set[str]:
        if not url:
            return set()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            return {r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'lineage_bench_%'")}

    before = databases()
    args = ["--writers", "1", "--steps", "1000"] + (["--postgres", url] if url else [])
    proc = _concurrency_bench(*args, env={"TMPDIR": str(tmp_path),
                                          "LINEAGE_TEST_POSTGRES_URL": ""})
    assert proc.returncode == 0, proc.stderr
    assert "sqlite" in proc.stdout
    assert list(tmp_path.iterdir()) == [], "temporary folders left behind"
    assert databases() == before, "PostgreSQL databases left behind"
