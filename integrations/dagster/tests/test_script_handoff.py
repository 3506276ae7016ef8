"""A file written by a Dagster asset and read by a tracked script is one node in one graph."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import lineage as ln
import lineage_dagster
from dagster_helpers import graph_edges, step

OUT_ENV = "LINEAGE_DAGSTER_TEST_OUT"

READER = textwrap.dedent("""\
    import sys
    import lineage as ln

    ln.track(params={"table": sys.argv[1]})
    table = ln.Artifact(sys.argv[1])          # the same content: the artifact Dagster made
    with table.open() as f:
        rows = f.read().splitlines()
    print("rows", len(rows))
    ln.finish()
""")


@dg.asset
def table() -> dg.MaterializeResult:
    """An asset that writes its own file and reports where (no IO manager involved)."""
    path = Path(os.environ[OUT_ENV]) / "table.csv"
    path.write_text("city,people\nParis,2100000\nLyon,520000\n")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


def test_file_written_by_an_asset_then_read_by_a_tracked_script(instance, tmp_path, monkeypatch):
    monkeypatch.setenv(OUT_ENV, str(tmp_path))
    result = dg.materialize([table], resources=lineage_dagster.instrument({}))
    assert result.success

    script = tmp_path / "read_table.py"
    script.write_text(READER)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "table.csv")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rows 3" in done.stdout

    artifact = ln.Artifact.get(key="dagster/table")
    assert artifact.run == step(result.run_id, "table")
    script_run = ln.Run.get(transform__key="read_table.py")
    assert script_run.status == "completed" and script_run.input_artifacts.one() == artifact
    assert ln.Artifact.filter(hash=artifact.hash).count() == 1
    assert graph_edges(artifact) == {
        ("run:__ephemeral_asset_job__#1", "run:table#1", "initiated"),
        ("run:table#1", "artifact:dagster/table", "output"),
        ("artifact:dagster/table", "run:read_table.py#1", "input"),
    }
