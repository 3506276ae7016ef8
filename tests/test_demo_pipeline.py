"""The README's main job: examples/pipeline.py in its own instance, ending with its graph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lineage as ln

PIPELINE = Path(__file__).resolve().parents[1] / "examples" / "pipeline.py"


def test_demo_pipeline_records_its_lineage_and_draws_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_CONFIG_DIR"] = str(tmp_path / "cfg")
    # the user has a default instance of their own: the demo must not write there
    subprocess.run([sys.executable, "-m", "lineage", "init", "--storage", str(tmp_path / "mine")],
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    result = subprocess.run([sys.executable, str(PIPELINE), "--rows", "50"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"writing to the demo instance {tmp_path / 'lineage-demo'}" in result.stdout
    svg = (tmp_path / "lineage.svg").read_text()
    for label in ("demo/report.md", "demo/raw/measurements.csv", "summarize", "pipeline.py"):
        assert label in svg

    ln.connect(tmp_path / "mine")
    assert ln.Run.filter().count() == 0 and ln.Artifact.filter().count() == 0
    ln.connect(tmp_path / "lineage-demo")
    flow = ln.Run.get(entrypoint="main")
    assert flow.status == "completed" and flow.params == {"rows": 50, "seed": 0, "minimum": 2.0}
    steps = flow.initiated_runs.order_by("started_at").all()
    assert [s.entrypoint for s in steps] == ["generate", "clean", "summarize", "summarize", "report"]
    report = ln.Artifact.get(key="demo/report.md")
    assert report.run.entrypoint == "report"
    assert sorted(a.key for a in report.run.input_artifacts) == [
        "demo/summary/by_group.json", "demo/summary/by_sample.json"]
    upstream = ln.lineage_graph(report, downstream=False)
    keys = {d.get("key") for _, d in upstream.nodes(data=True) if d.get("kind") == "artifact"}
    assert "demo/raw/measurements.csv" in keys
    assert [p.name for p in report.projects] == ["Demo"]
