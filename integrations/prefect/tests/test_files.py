"""A file written by a Prefect task and read by a tracked script is one node of one graph."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import lineage as ln
import pipelines

READER = textwrap.dedent("""
    import sys
    import lineage as ln

    ln.track()
    with ln.Artifact(sys.argv[1]).open() as text:   # the same content: the existing artifact
        print(text.read().strip())
""")


def test_file_from_a_task_read_by_a_tracked_script(instance, tmp_path):
    path = tmp_path / "summary.txt"
    assert pipelines.report(str(path)) == str(path)
    script = tmp_path / "read_summary.py"
    script.write_text(READER)
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_PARENT_RUN_UID"}
    done = subprocess.run([sys.executable, str(script), str(path)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("rows: 3")

    (artifact,) = ln.Artifact.filter(key="reports/summary.txt")
    (writer,) = ln.Run.filter(entrypoint="write_report")
    (reader,) = ln.Run.filter(transform__key="read_summary.py")
    assert artifact.run_id == writer.id
    assert [a.id for a in reader.input_artifacts] == [artifact.id]
    graph = ln.lineage_graph(artifact)
    assert [n for n in graph if n.startswith("artifact:")] == [f"artifact:{artifact.uid}"]
    flow_run = writer.initiated_by_run
    assert graph.edges[f"run:{flow_run.uid}", f"run:{writer.uid}"]["relation"] == "initiated"
    assert graph.edges[f"run:{writer.uid}", f"artifact:{artifact.uid}"]["relation"] == "output"
    assert graph.edges[f"artifact:{artifact.uid}", f"run:{reader.uid}"]["relation"] == "input"
