"""The multiprocess executor with a real Dagster instance configured by ``dagster.yaml``.

Each step runs in a process of its own; the run's own events happen in the
orchestrating process. Lineage's event-log storage, named in the
instance's ``dagster.yaml``, records in each of them, and the step
processes find the run that the orchestrator created by its external id.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import dagster as dg
import lineage as ln
from dagster_helpers import dagster_home, dagster_runs, graph_edges, step



def test_multiprocess_job_with_dagster_yaml(instance, tmp_path):
    home = dagster_home(tmp_path)
    job = dg.build_reconstructable_job("dagster_jobs", "mp_job",
                                       reconstructor_working_directory=str(Path(__file__).parent))
    with dg.DagsterInstance.from_config(str(home)) as dagster_instance:
        assert type(dagster_instance.event_log_storage).__name__ == "LineageSqliteEventLogStorage"
        with dg.execute_job(job, instance=dagster_instance) as result:
            assert result.success
            run_id = result.run_id
            starts = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED)
            step_pids = {e.pid for e in result.all_events if e.event_type in starts}

    assert len(step_pids) == 3  # mp_raw twice (its retry is a new process), mp_sorted once
    assert dagster_runs(run_id) == [
        ("mp_job", 1, "completed", {}, [], []),
        ("mp_raw", 1, "errored", None, [], []),
        ("mp_raw", 2, "completed", None, [], ["dagster/mp_raw"]),
        ("mp_sorted", 1, "completed", None, ["dagster/mp_raw"], ["dagster/mp_sorted"]),
    ]
    job_run = ln.Run.get(external_id=run_id)
    assert job_run.transform.key == "dagster_jobs.py"
    first, second = step(run_id, "mp_raw").attempts.all()
    assert "RuntimeError: mp_raw fails once" in first.error
    # Each attempt was recorded by its own step process, the run by the orchestrator.
    assert {first.pid, second.pid, step(run_id, "mp_sorted").pid} == step_pids
    assert job_run.pid not in step_pids
    sorted_artifact = ln.Artifact.get(key="dagster/mp_sorted")
    assert pickle.loads(Path(sorted_artifact.cache()).read_bytes()) == [7, 8, 9]
    assert graph_edges(sorted_artifact) == {
        ("run:mp_job#1", "run:mp_raw#2", "initiated"),
        ("run:mp_job#1", "run:mp_sorted#1", "initiated"),
        ("run:mp_raw#2", "artifact:dagster/mp_raw", "output"),
        ("artifact:dagster/mp_raw", "run:mp_sorted#1", "input"),
        ("run:mp_sorted#1", "artifact:dagster/mp_sorted", "output"),
    }
