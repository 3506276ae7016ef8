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

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workflow(instance):
    yield lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    deferred.write_all()  # nothing of this test is left for the exit handler


@pytest.fixture
def flow_run(workflow):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-1")


def _task(workflow, flow_run, external_id="task-1", **kwargs):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id=external_id,
                                parent=flow_run, defer=True, **kwargs)


def _stored(external_id):
    return ln.Run.filter(external_source="prefect", external_id=external_id).first()


def _write_transactions(instance):
    """The write transactions the instance's connection begins from now on (SQLite):
    each ``BEGIN IMMEDIATE`` and each write statement run as a transaction of its own."""
    if instance.db.dialect.name != "sqlite":
        pytest.skip("counts SQLite statements")
    raw = instance.db.connection().raw
    begun = []

    def trace(sql):
        words = sql.strip().upper()
        alone = words.startswith(("INSERT", "UPDATE", "DELETE")) and not raw.in_transaction
        if words == "BEGIN IMMEDIATE" or alone:
            begun.append(sql)

    raw.set_trace_callback(trace)
    return begun


def test_a_deferred_run_is_written_once_with_its_start_and_end(workflow, flow_run, instance):
    writes = _write_transactions(instance)
    events = []

    def observer(event, run):
        events.append((event, run.status))

    add_observer(observer)
    try:
        task = _task(workflow, flow_run, params={"n": 1}, entrypoint="extract")
        assert task.uid and task.status == "started" and _stored("task-1") is None
        assert lifecycle.finish_run(task, "completed") is True
    finally:
        remove_observer(observer)
    assert len(writes) == 1  # one write transaction for the whole task run
    stored = _stored("task-1")
    assert (stored.uid, stored.status, stored.params) == (task.uid, "completed", {"n": 1})
    assert stored.started_at == task.started_at and stored.finished_at >= stored.started_at
    assert stored.initiated_by_run_id == flow_run.id
    assert events == [("start", "completed"), ("finish", "completed")]
    assert type(task) is ln.Run and task.id == stored.id


def test_reading_the_id_writes_the_run_as_started(workflow, flow_run):
    task = _task(workflow, flow_run)
    key = hash(task)
    assert task.id is not None  # an artifact, a step or a link needs it
    assert _stored("task-1").status == "started" and type(task) is ln.Run
    assert hash(task) == key and task == _stored("task-1")
    lifecycle.finish_run(task, "errored", "ValueError: boom")
    assert _stored("task-1").status == "errored"


def test_an_artifact_saved_in_a_deferred_run_links_to_it(workflow, flow_run, tmp_path):
    task = _task(workflow, flow_run)
    activation = lifecycle.activate(task)
    try:
        path = tmp_path / "out.txt"
        path.write_text("made by the task")
        artifact = ln.Artifact(path, key="out.txt").save()
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(task, "completed")
    assert artifact.run_id == _stored("task-1").id
    assert ln.Artifact.get(key="out.txt").run.status == "completed"


def test_a_deferred_upstream_run_is_written_with_its_downstream(workflow, flow_run):
    first = _task(workflow, flow_run, "task-1")
    second = _task(workflow, flow_run, "task-2", upstream=[first])
    assert _stored("task-1") is None and _stored("task-2") is None
    lifecycle.finish_run(second, "completed")
    assert [r.uid for r in _stored("task-2").upstream_runs] == [first.uid]
    assert _stored("task-1").status == "started"
    lifecycle.finish_run(first, "completed")
    assert _stored("task-1").status == "completed"


def test_a_long_task_is_written_as_started_after_a_while(workflow, flow_run, monkeypatch):
    monkeypatch.setattr(deferred, "DEFER_SECONDS", 0.05)
    task = _task(workflow, flow_run)
    deadline = time.monotonic() + 10
    while _stored("task-1") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored("task-1").status == "started"  # written by the background thread
    assert not deferred.is_pending(task)
    lifecycle.finish_run(task, "completed")
    assert _stored("task-1").status == "completed"


def test_a_copy_gets_a_written_run(workflow, flow_run):
    task = _task(workflow, flow_run)
    copied = copy.copy(task)
    assert type(copied) is ln.Run and copied.id == _stored("task-1").id == task.id


def test_a_run_another_process_wrote_first_is_filled_in_not_duplicated(workflow, flow_run):
    task = _task(workflow, flow_run, entrypoint="extract")
    other = lifecycle.engine_run(workflow, external_source="prefect", external_id="task-1",
                                 parent=flow_run, details={"host": "elsewhere"})
    lifecycle.finish_run(task, "completed")
    (stored,) = ln.Run.filter(external_source="prefect", external_id="task-1")
    assert stored.id == other.id == task.id and stored.status == "completed"
    assert stored.entrypoint == "extract" and stored.details == {"host": "elsewhere"}


def _child_env(instance):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_INSTANCE"] = str(instance.root) if instance.root is not None else instance.db.url
    env["LINEAGE_CONFIG_DIR"] = os.environ["LINEAGE_CONFIG_DIR"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def test_a_child_process_started_by_a_deferred_run_links_to_it(workflow, flow_run, instance,
                                                               tmp_path):
    script = tmp_path / "child.py"
    script.write_text("import lineage as ln\nln.track()\nln.finish()\n")
    task = _task(workflow, flow_run)
    activation = lifecycle.activate(task)  # the main thread: LINEAGE_PARENT_RUN_UID is set
    try:
        env = {**_child_env(instance), lifecycle.PARENT_ENV: task.uid}
        subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=120)
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(task, "completed")
    (child,) = ln.Run.filter(transform__key="child.py")
    assert child.initiated_by_run_id == _stored("task-1").id is not None


_ENGINE_PROCESS = """
    import sys, time
    import lineage as ln
    from lineage import lifecycle
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    flow = lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-9")
    done = lifecycle.engine_run(workflow, external_source="prefect", external_id="done",
                                parent=flow, defer=True)
    lifecycle.finish_run(done, "completed")
    running = lifecycle.engine_run(workflow, external_source="prefect", external_id="running",
                                   parent=flow, defer=True)
    print("ready", flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)
    time.sleep(60)
"""


@pytest.mark.parametrize("end", ["kill", "exit"])
def test_what_a_kill_or_an_exit_leaves_of_deferred_runs(instance, tmp_path, end):
    script = tmp_path / "engine.py"
    script.write_text(textwrap.dedent(_ENGINE_PROCESS))
    child = subprocess.Popen([sys.executable, str(script), end], env=_child_env(instance),
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        if end == "kill":
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        child.kill()
    flow = _stored("flow-9")
    assert flow.status == "started"  # written at its start, as before
    assert _stored("done").status == "completed"  # its one write happened at its end
    if end == "kill":  # under a second old, nothing pointed at it: not on disk
        assert _stored("running") is None
    else:  # a normal exit writes what is pending, as it stands
        assert _stored("running").status == "started"
        assert _stored("running").initiated_by_run_id == flow.id
