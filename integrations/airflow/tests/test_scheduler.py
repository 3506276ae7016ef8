"""One DAG run under the real scheduler with the LocalExecutor.

The scheduler, the DAG processor and the API server are separate
processes, and every task try runs in a process of its own (forked by a
LocalExecutor worker, which supervises it): the runs they record are
linked only through the ids of `lineage_airflow.ids`. Bounded: the whole
test gives up after `DEADLINE` seconds, and no Airflow process survives it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import lineage as ln
import pytest

from airflow_processes import airflow_processes
from airflow_helpers import airflow_environment, copy_sqlite
from lineage.testing import free_port

DAGS = Path(__file__).parent / "scheduler_dags"
#: Seconds the whole test may take: 170 on an idle machine, more on one busy with other work
#: (by its load per core, at most 600), or LINEAGE_AIRFLOW_SCHEDULER_DEADLINE. A bound that
#: guarantees the test ends and cleans up, not a speed target (see benchmarks/engines/).
DEADLINE = float(os.environ.get("LINEAGE_AIRFLOW_SCHEDULER_DEADLINE") or
                 min(600.0, 170.0 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))))


def wait_for(condition, deadline, processes, what):
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}\n{processes.tail()}")


def api(port, method, path, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def healthy(port):
    try:
        return api(port, "GET", "/api/v2/monitor/health") is not None
    except OSError:
        return False


def unpaused(port):
    try:
        return api(port, "PATCH", "/api/v2/dags/pipeline", {"is_paused": False})
    except OSError:  # not parsed yet (404)
        return False


def lineage_runs():
    return {(r.entrypoint, r.attempt): r
            for r in ln.Run.filter(external_source="airflow").all()}


@pytest.mark.timeout(DEADLINE + 60)
def test_a_dag_run_under_the_scheduler_links_task_processes(airflow_db, lineage_instance,
                                                             tmp_path):
    deadline = time.monotonic() + DEADLINE
    home, out = tmp_path / "airflow", tmp_path / "out"
    home.mkdir(), out.mkdir()
    copy_sqlite(airflow_db, home / "airflow.db")
    port = free_port()
    env = {**os.environ, **airflow_environment(home, DAGS), "LINEAGE_TEST_OUT": str(out),
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": "2",
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
           "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
           "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
           "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
           "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
           "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
           "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    with airflow_processes(tmp_path, env) as processes:
        api_server = processes.start("api-server", "api-server", "--port", str(port),
                                     "--host", "127.0.0.1", "--workers", "1")
        processes.start("dag-processor", "dag-processor")
        scheduler = processes.start("scheduler", "scheduler")
        # workers must reach the execution API: the DAG is unpaused once it answers
        wait_for(lambda: healthy(port) and unpaused(port), deadline, processes, "the API server")

        def dag_run_ended():
            runs = ln.Run.filter(external_source="airflow", entrypoint="pipeline").all()
            return runs and runs[0].status in ("completed", "errored") and runs[0]

        dag_run = wait_for(dag_run_ended, deadline, processes, "the DAG run to end")
        runs = lineage_runs()
        # the DAG run: started and ended by the scheduler, a run of the DAG file
        assert dag_run.status == "errored"  # vanish and zombie failed it
        assert dag_run.pid == scheduler.pid
        assert dag_run.transform.key.endswith("pipeline.py") and dag_run.params["rows"] == 5
        task_runs = [r for (name, _), r in runs.items() if name != "pipeline"]
        assert all(r.initiated_by_run_id == dag_run.id for r in task_runs)
        pids = {r.pid for r in task_runs}
        assert scheduler.pid not in pids and api_server.pid not in pids and len(pids) >= 4
        # XCom across processes, a retry in a new process
        extract, first, second = runs["extract", 1], runs["summarize", 1], runs["summarize", 2]
        assert extract.status == "completed" and extract.output_artifacts.one().size > 0
        assert first.status == "errored" and "first try of summarize fails" in first.error
        assert second.status == "completed" and second.params["rows"] == 5
        assert first.pid != second.pid
        assert [r.id for r in second.upstream_runs.all()] == [extract.id]
        # killed tries are aborted: by the scheduler's end-of-run sweep, or as lost heartbeats
        vanish, zombie = runs["vanish", 1], runs["zombie", 1]
        assert vanish.status == "aborted" and "ended without reporting" in vanish.error
        assert zombie.status == "aborted" and zombie.pid != scheduler.pid  # started by its process
        # failed by the scheduler: its worker vanished, or its heartbeats stopped
        assert "reported that the task instance" in zombie.error or "heartbeat" in zombie.error

        # an operator marks the zombie task successful in the API: a status correction
        api(port, "PATCH", f"/api/v2/dags/pipeline/dagRuns/{dag_run.details['run_id']}"
                           "/taskInstances/zombie", {"new_state": "success"})
        corrected = wait_for(lambda: ln.Run.get(zombie.id).status == "completed" and
                             ln.Run.get(zombie.id), deadline, processes, "the correction")
        assert corrected.error is None
        change = ln.RecordChange.filter(registry="Run", record_uid=zombie.uid).order_by("-id").first()
        assert change.previous["status"] == "aborted"
        survivors = processes.survivors()
    assert survivors, "the Airflow processes were running until the block ended"
    assert processes.survivors() == []
