"""Engine task runs written once, at their end (`engine_run(defer=True)`)."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.lifecycle import deferred
from lineage.lifecycle.observers import add_observer, remove_observer

from deferred_support import (child_env, deferred_task, flow_run, stored_run, workflow,
                              write_transactions)

__all__ = ["flow_run", "workflow"]  # fixtures


def test_a_deferred_run_is_written_once_with_its_start_and_end(workflow, flow_run, instance,
                                                               monkeypatch):
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)  # the read below writes it
    writes = write_transactions(instance)
    events = []

    def observer(event, run):
        events.append((event, run.status))

    add_observer(observer)
    try:
        task = deferred_task(workflow, flow_run, params={"n": 1}, entrypoint="extract")
        assert task.uid and task.status == "started" and stored_run("task-1") is None
        assert lifecycle.finish_run(task, "completed") is True
        assert writes == [] and deferred.is_pending(task)  # ended: waiting for its batch
        assert lifecycle.finish_run(task, "errored") is False  # the first end is kept
        stored = stored_run("task-1")  # a read of this process writes what waits first
    finally:
        remove_observer(observer)
    assert len(writes) == 1  # one write transaction for the whole task run
    assert (stored.uid, stored.status, stored.params) == (task.uid, "completed", {"n": 1})
    assert stored.started_at == task.started_at and stored.finished_at >= stored.started_at
    assert stored.initiated_by_run_id == flow_run.id
    assert events == [("start", "completed"), ("finish", "completed")]
    assert type(task) is ln.Run and task.id == stored.id


def test_reading_the_id_writes_the_run_as_started(workflow, flow_run):
    task = deferred_task(workflow, flow_run)
    key = hash(task)
    assert task.id is not None  # an artifact, a step or a link needs it
    assert stored_run("task-1").status == "started" and type(task) is ln.Run
    assert hash(task) == key and task == stored_run("task-1")
    lifecycle.finish_run(task, "errored", "ValueError: boom")
    assert stored_run("task-1").status == "errored"


def test_an_artifact_saved_in_a_deferred_run_links_to_it(workflow, flow_run, tmp_path):
    task = deferred_task(workflow, flow_run)
    activation = lifecycle.activate(task)
    try:
        path = tmp_path / "out.txt"
        path.write_text("made by the task")
        artifact = ln.Artifact(path, key="out.txt").save()
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(task, "completed")
    assert artifact.run_id == stored_run("task-1").id
    assert ln.Artifact.get(key="out.txt").run.status == "completed"


def test_a_deferred_upstream_run_is_written_with_its_downstream(workflow, flow_run):
    first = deferred_task(workflow, flow_run, "task-1")
    second = deferred_task(workflow, flow_run, "task-2", upstream=[first])
    assert stored_run("task-1") is None and stored_run("task-2") is None
    lifecycle.finish_run(second, "completed")
    assert [r.uid for r in stored_run("task-2").upstream_runs] == [first.uid]
    assert stored_run("task-1").status == "started"
    lifecycle.finish_run(first, "completed")
    assert stored_run("task-1").status == "completed"


def test_a_long_task_is_written_as_started_after_a_while(workflow, flow_run, monkeypatch):
    monkeypatch.setattr(deferred, "DEFER_SECONDS", 0.05)
    task = deferred_task(workflow, flow_run)
    deadline = time.monotonic() + 10
    while stored_run("task-1") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_run("task-1").status == "started"  # written by the background thread
    assert not deferred.is_pending(task)
    lifecycle.finish_run(task, "completed")
    assert stored_run("task-1").status == "completed"


def test_a_copy_gets_a_written_run(workflow, flow_run):
    task = deferred_task(workflow, flow_run)
    copied = copy.copy(task)
    assert type(copied) is ln.Run and copied.id == stored_run("task-1").id == task.id


def test_a_run_another_process_wrote_first_is_filled_in_not_duplicated(workflow, flow_run):
    task = deferred_task(workflow, flow_run, entrypoint="extract")
    other = lifecycle.engine_run(workflow, external_source="prefect", external_id="task-1",
                                 parent=flow_run, details={"host": "elsewhere"})
    lifecycle.finish_run(task, "completed")
    (stored,) = ln.Run.filter(external_source="prefect", external_id="task-1")
    assert stored.id == other.id == task.id and stored.status == "completed"
    assert stored.entrypoint == "extract" and stored.details == {"host": "elsewhere"}


def test_a_child_process_started_by_a_deferred_run_links_to_it(workflow, flow_run, instance,
                                                               tmp_path):
    script = tmp_path / "child.py"
    script.write_text("import lineage as ln\nln.track()\nln.finish()\n")
    task = deferred_task(workflow, flow_run)
    activation = lifecycle.activate(task)  # the main thread: LINEAGE_PARENT_RUN_UID is set
    try:
        env = {**child_env(instance), lifecycle.PARENT_ENV: task.uid}
        subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=120)
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(task, "completed")
    (child,) = ln.Run.filter(transform__key="child.py")
    assert child.initiated_by_run_id == stored_run("task-1").id is not None


_ENGINE_PROCESS = """
    import sys, time
    import lineage as ln
    from lineage import lifecycle
    from lineage.lifecycle import deferred
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    flow = lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-9")
    done = lifecycle.engine_run(workflow, external_source="prefect", external_id="done",
                                parent=flow, defer=True)
    lifecycle.finish_run(done, "completed")
    print("ended", flush=True)
    sys.stdin.readline()  # the parent saw it written, by the background thread alone
    deferred.BATCH_SECONDS = 3600.0
    waiting = lifecycle.engine_run(workflow, external_source="prefect", external_id="waiting",
                                   parent=flow, defer=True)
    lifecycle.finish_run(waiting, "completed")
    running = lifecycle.engine_run(workflow, external_source="prefect", external_id="running",
                                   parent=flow, defer=True)
    print("ready", flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)
    time.sleep(60)
"""


def _wait_for(external_id, status, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stored = stored_run(external_id)
        if stored is not None and stored.status == status:
            return stored
        time.sleep(0.02)
    raise AssertionError(f"{external_id} not {status} after {seconds} s")


@pytest.mark.parametrize("end", ["kill", "exit"])
def test_what_a_kill_or_an_exit_leaves_of_deferred_runs(instance, tmp_path, end):
    script = tmp_path / "engine.py"
    script.write_text(textwrap.dedent(_ENGINE_PROCESS))
    child = subprocess.Popen([sys.executable, str(script), end], env=child_env(instance),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ended"
        _wait_for("done", "completed")  # its one write, in a batch, with nothing asking for it
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ready"
        if end == "kill":
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        child.kill()
    flow = stored_run("flow-9")
    assert flow.status == "started"  # written at its start, as before
    if end == "kill":  # its batch not due, nothing pointed at them: not on disk
        assert stored_run("waiting") is None and stored_run("running") is None
    else:  # a normal exit writes what is pending, as it stands
        assert stored_run("waiting").status == "completed"
        assert stored_run("running").status == "started"
        assert stored_run("running").initiated_by_run_id == flow.id


def test_an_input_of_a_pending_run_is_written_with_the_run(workflow, flow_run, instance, tmp_path,
                                                           monkeypatch):
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)
    (tmp_path / "in.txt").write_text("input")
    artifact = ln.Artifact(tmp_path / "in.txt", key="in.txt").save()
    writes = write_transactions(instance)
    task = deferred_task(workflow, flow_run)
    lifecycle.record_input(task, artifact)
    lifecycle.record_input(task, artifact.id)  # idempotent, as for a written run
    assert writes == [] and deferred.is_pending(task)  # the link waits for the run's write
    lifecycle.finish_run(task, "completed")
    stored = stored_run("task-1")  # writes the batch: run and link in one transaction
    assert len(writes) == 1
    assert [a.id for a in stored.input_artifacts] == [artifact.id]


def test_an_input_of_a_written_run_is_written_at_once(workflow, flow_run, tmp_path):
    (tmp_path / "in.txt").write_text("input")
    artifact = ln.Artifact(tmp_path / "in.txt", key="in.txt").save()
    task = deferred_task(workflow, flow_run)
    assert task.id is not None  # written as started
    lifecycle.record_input(task, artifact)
    assert [a.id for a in stored_run("task-1").input_artifacts] == [artifact.id]
    lifecycle.finish_run(task, "completed")
