"""Checks of the benchmark harness's own logic (no timings are asserted).

    python -m pytest benchmarks/test_harness.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
    assert ok.maxrss_mib > 1 and ok.wall_s > 0
    bad = run.run_proc([sys.executable, "-c", "raise KeyError('k')"], tmp_path, {}, timeout=60)
    assert bad.error == "KeyError: 'k'"
    silent = run.run_proc([sys.executable, "-c", "pass"], tmp_path, {}, timeout=60)
    assert silent.error.startswith("no result line")
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    slow = run.run_proc(sleep, tmp_path, {}, timeout=0.5)
    assert slow.error.startswith("timed out after")


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
