"""examples/tutorial.ipynb, the seed tutorial ported to lineage, executed headless by papermill.

Asserts what it records: the notebook transform (its cells as source), the
run with papermill's parameters, features and project, the artifacts and
the flow and step runs it made, linked into one lineage, and the executed
notebook as the run's HTML report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lineage as ln
from lineage.capture.notebook import notebook_transform_source

from notebook_helpers import REPO

TUTORIAL = REPO / "examples" / "tutorial.ipynb"

pytestmark = pytest.mark.timeout(600)


def test_tutorial_notebook_runs_headless_and_is_recorded(runners) -> None:
    output = runners.cwd / "tutorial.out.ipynb"
    runners.papermill(TUTORIAL, output, "-p", "learning_rate", "0.02")

    transform = ln.Transform.get(key="tutorial.ipynb")
    assert transform.kind == "notebook" and transform.version == 1
    assert transform.source_code == notebook_transform_source(TUTORIAL)
    assert "ln.track(" in transform.source_code and '"outputs": []' in transform.source_code

    run = ln.Run.get(transform__key="tutorial.ipynb", entrypoint__isnull=True)
    assert run.status == "completed"
    assert run.params == {"input_dir": "./mydataset", "learning_rate": 0.02, "downsample": True,
                          "preprocess": {"downsample": True, "normalization": "the_good_one"}}
    assert run.features.get_values() == {"experiment": "Experiment1"}
    assert [p.name for p in run.projects] == ["My project"]

    sample = ln.Artifact.get(key="raw/sample.fasta")
    subset = ln.Artifact.get(key="derived/subset.fasta")
    assert sample.run.uid == run.uid  # an output of the notebook's run
    step = subset.run
    assert (step.entrypoint, step.transform.key) == ("subset", "tutorial.ipynb")
    assert [a.uid for a in step.input_artifacts] == [sample.uid]
    flow = step.initiated_by_run
    assert flow.entrypoint == "main" and flow.initiated_by_run.uid == run.uid
    assert Path(subset.cache()).read_text() == ">seq1\nACGT\n>seq2\nTTGA\n"
    graph = ln.lineage_graph(subset)
    assert {run.uid, flow.uid, step.uid} <= {d.get("uid") for _, d in graph.nodes(data=True)}

    html = Path(run.report.cache()).read_text(encoding="utf-8")
    assert "Manage notebooks, scripts" in html  # the markdown
    assert "subset made by subset called by main" in html  # printed
    assert "found run" in html
    assert "data:image/svg+xml" in html  # the lineage drawing displayed inline
    assert "0.02" in html  # papermill's injected parameters cell
    executed = json.loads(output.read_text())  # papermill's own output notebook ran cleanly
    assert not [o for c in executed["cells"] for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
