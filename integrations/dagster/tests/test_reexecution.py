"""Re-executions of a failed run link to the run they re-execute and to the data they reuse."""

from __future__ import annotations

import dagster as dg
import dagster_jobs
import lineage as ln
from dagster_helpers import dagster_runs, step
from lineage.graph.build import node_id

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


def test_reexecution_from_failure(instance, tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv(dagster_jobs.MARKER_ENV, str(marker))
    job = dg.reconstructable(dagster_jobs.rerun_job)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as dagster_instance:
        with dg.execute_job(job, instance=dagster_instance, run_config=IN_PROCESS) as parent:
            assert not parent.success
        marker.touch()
        options = dg.ReexecutionOptions.from_failure(parent.run_id, dagster_instance)
        with dg.execute_job(job, instance=dagster_instance, run_config=IN_PROCESS,
                            reexecution_options=options) as rerun:
            assert rerun.success and rerun.output_for_node("check") == 15

    assert dagster_runs(parent.run_id) == [
        ("rerun_job", 1, "errored", IN_PROCESS, [], []),
        ("check", 1, "errored", None, [], []),
        ("fetch", 1, "completed", None, [], []),
    ]
    assert dagster_runs(rerun.run_id) == [
        ("rerun_job", 1, "completed", IN_PROCESS, [], []),
        ("check", 1, "completed", None, [], []),
    ]
    parent_run = ln.Run.get(external_id=parent.run_id)
    rerun_run = ln.Run.get(external_id=rerun.run_id)
    assert rerun_run.details["parent_run_id"] == parent.run_id
    assert rerun_run.details["root_run_id"] == parent.run_id
    assert rerun_run.upstream_runs.one() == parent_run
    # The re-executed step loaded fetch's output from the parent run: its producer is that step.
    assert step(rerun.run_id, "check").upstream_runs.one() == step(parent.run_id, "fetch")
    assert rerun_run.transform.key == "dagster_jobs.py"
    check_run, fetch_run = step(rerun.run_id, "check"), step(parent.run_id, "fetch")
    graph = ln.lineage_graph(check_run)
    assert {(a, b, d["relation"]) for a, b, d in graph.edges(data=True)} == {
        (node_id(parent_run), node_id(rerun_run), "data"),
        (node_id(parent_run), node_id(fetch_run), "initiated"),
        (node_id(fetch_run), node_id(check_run), "data"),
        (node_id(rerun_run), node_id(check_run), "initiated"),
    }
