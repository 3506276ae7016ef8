"""`record.describe()` trees and `ln.view()` overview tables."""

from __future__ import annotations

import io

import pytest
from graph_helpers import force_save
from rich.console import Console

import lineage as ln
from lineage.db.record import current_db
from lineage.graph.describe import LIST_LIMIT, describe, human_size, when


def text_of(record) -> str:
    buffer = io.StringIO()
    describe(record, console=Console(file=buffer, width=250, color_system=None))
    return buffer.getvalue()


def link(table, left, right):
    current_db().write(lambda c: c.execute(f"INSERT INTO {table} VALUES (?, ?)", [left, right]))


@pytest.fixture
def project_pipeline(lin):
    env = ln.Environment(hash="e" * 64, python_version="3.11.4", platform="Linux-x86_64",
                         packages={"numpy": "1.26.0", "pandas": "2.2.0"},
                         host={"hostname": "worker-1", "os": "Linux", "cpu_count": 8}).save()
    raw = lin.artifact("raw/sample.fasta", description="the raw reads")
    flow = lin.run("my_workflow.py", "main", inputs=(raw,),
                   params={"learning_rate": 0.01, "preprocess": {"downsample": True}})
    force_save(flow, cli_args=["my_workflow.py", "--learning-rate", "0.01"],
               environment_id=env.id,
               git={"commit": "0123456789abcdef", "branch": "main", "dirty": False,
                    "remote": "https://github.com/org/repo", "path": "my_workflow.py"})
    step = lin.run("my_workflow.py", "subset", inputs=(raw,), parent=flow, params={"n": 2})
    out = lin.artifact("my_analysis/subset.csv", step)
    newer = lin.artifact("my_analysis/subset.csv", lin.run("my_workflow.py", "subset", parent=flow))
    project = ln.Project(name="My project").save()
    link("project_run", project.id, flow.id)
    link("project_artifact", project.id, out.id)
    return {"raw": raw, "flow": flow, "step": step, "out": out, "newer": newer, "env": env}


def test_run_tree(project_pipeline):
    flow, step = project_pipeline["flow"], project_pipeline["step"]
    text = text_of(flow)
    for expected in (f"Run {flow.uid}", "completed", "transform: my_workflow.py (v1, script",
                     "entrypoint: main", "learning_rate = 0.01", "downsample = True",
                     "cli args: my_workflow.py --learning-rate 0.01", "inputs (1)",
                     "raw/sample.fasta v1", "initiated runs (2)", "subset",
                     "environment: Python 3.11.4 on Linux-x86_64, 2 packages",
                     "hostname worker-1", "git: 0123456789abcdef on main (clean)",
                     "remote: https://github.com/org/repo", "projects: My project", "30.0 s"):
        assert expected in text, expected
    step_text = text_of(step)
    assert f"initiated by: run {flow.uid}" in step_text
    assert "outputs (1)" in step_text and "my_analysis/subset.csv v1" in step_text
    assert "n = 2" in step_text


def test_errored_run_shows_the_error(lin):
    run = lin.run("bad.py", status="errored")
    force_save(run, error="Traceback (most recent call last):\n  ...\nValueError: [bad] input")
    text = text_of(run)
    assert "errored" in text and "ValueError: [bad] input" in text


def test_artifact_tree(project_pipeline, lin):
    out = project_pipeline["out"].refresh()
    step, newer = project_pipeline["step"], project_pipeline["newer"]
    user = lin.run("report.py", inputs=(out,))
    text = text_of(out)
    for expected in ("Artifact my_analysis/subset.csv", "v1 (not latest)", out.uid,
                     f"run: run {step.uid} · my_workflow.py · subset · completed",
                     "initiated by: run", "inputs (1)", "used as input by (1)", user.uid,
                     "versions (2)", f"uid {out.uid}  ← this one", newer.uid,
                     "projects: My project", "sha256: "):
        assert expected in text, expected
    raw_text = text_of(project_pipeline["raw"])
    assert "description: the raw reads" in raw_text and "used as input by (2)" in raw_text


def test_recreated_artifact_lists_previous_runs(lin):
    first = lin.run("make.py")
    result = lin.artifact("result.csv", first)
    second = lin.run("make.py")
    lin.recreate(result, second)
    text = text_of(result)
    assert f"run: run {second.uid}" in text
    assert "previous runs (created the same content earlier) (1)" in text and first.uid in text
    assert "re-created earlier" in text_of(first)


def test_transform_tree_and_generic_table(project_pipeline, lin):
    transform = lin.transform("my_workflow.py")
    text = text_of(transform)
    assert "Transform my_workflow.py" in text and "runs: 3" in text and "versions (1)" in text
    project = ln.Project.filter(name="My project").one()
    table = text_of(project)
    assert "Project" in table and "My project" in table and "created_at" in table
    unsaved = text_of(ln.Artifact._from_fields(key="later.csv"))
    assert "(not saved)" in unsaved and "later.csv" in unsaved


def test_long_lists_are_cut(lin):
    inputs = tuple(lin.artifact(f"in/{i}.csv") for i in range(LIST_LIMIT + 5))
    run = lin.run("many.py", inputs=inputs)
    text = text_of(run)
    assert f"inputs ({LIST_LIMIT + 5})" in text and "… 5 more" in text
    assert text.count("in/") == LIST_LIMIT


def test_record_describe_prints(project_pipeline, capsys):
    project_pipeline["flow"].describe()
    assert "my_workflow.py" in capsys.readouterr().out


def test_view_overview(project_pipeline, lin, capsys):
    ln.view()
    out = capsys.readouterr().out
    for expected in ("Instance", "1 transforms · 3 runs · 3 artifacts · 1 projects",
                     "Recent transforms", "Recent runs", "Recent artifacts", "my_workflow.py",
                     "my_analysis/subset.csv", "raw/sample.fasta", project_pipeline["flow"].uid,
                     "subset"):
        assert expected in out, expected
    buffer = io.StringIO()
    ln.view(limit=1, console=Console(file=buffer, width=200, color_system=None))
    shown = buffer.getvalue()
    assert project_pipeline["newer"].uid in shown and project_pipeline["raw"].uid not in shown


def test_helpers():
    assert human_size(None) == "? B" and human_size(12) == "12 B"
    assert human_size(1536) == "1.5 KiB" and human_size(5 * 2**30) == "5.0 GiB"
    assert when(None) == ""


def test_engine_run_shows_attempts_details_and_data_it_received(lin):
    from lineage import lifecycle

    transform = lin.transform("Snakefile", kind="snakemake")
    first = lifecycle.engine_run(transform, external_source="snakemake", external_id="job-7",
                                 entrypoint="align", details={"rule": "align", "threads": 4})
    lifecycle.finish_run(first, "errored", "exit status 1")
    retry = lifecycle.engine_run(transform, external_source="snakemake", external_id="job-7",
                                 attempt=2, entrypoint="align")
    upstream = lifecycle.engine_run(transform, external_source="snakemake", external_id="job-3",
                                    entrypoint="trim")
    lifecycle.record_upstream(retry, upstream)
    lifecycle.finish_run(retry, "cached")
    text = text_of(ln.Run.get(retry.uid))
    assert "external: snakemake job-7  attempt 2 of 2" in text
    assert "cached" in text
    assert "received data from (1)" in text and upstream.uid in text
    assert "rule = align" in text_of(ln.Run.get(first.uid))
    assert "attempt 1 of 2" in text_of(ln.Run.get(first.uid))


def test_output_that_is_not_a_terminal_is_never_cut(lin, instance, tmp_path):
    """describe() and ln.view() in a real process whose stdout is a pipe (logs, CI, > file)."""
    import os
    import subprocess
    import sys

    query = "SELECT " + ", ".join(f"column_{i}" for i in range(60))  # about 700 characters
    key = "results/" + "deeply/nested/" * 12 + "file_with_a_long_name.csv"
    run = lin.run("report.py", params={"query": query})
    force_save(run, error="Traceback (most recent call last):\n" + "".join(
        f"  frame {i}\n" for i in range(20)) + "ValueError: " + "w" * 300)
    artifact = lin.artifact(key, run)
    script = tmp_path / "show.py"
    script.write_text(
        "import lineage as ln\n"
        f"ln.Run.get(uid={run.uid!r}).describe()\n"
        f"ln.Artifact.get(uid={artifact.uid!r}).describe()\n"
        "ln.view()\n")
    target = str(instance.root) if instance.root is not None else instance.db.url
    env = {**os.environ, "LINEAGE_INSTANCE": target, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith(f"query = {query}") for line in lines)  # whole, on one line
    assert sum(key in line for line in lines) >= 3  # run outputs, artifact title, view table
    assert "  frame 0" in done.stdout and "ValueError: " + "w" * 300 in done.stdout
    assert "…" not in done.stdout
