"""A deferred run is written inside the transaction of the first artifact it saves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.lifecycle import deferred

from deferred_support import (child_env, deferred_task, flow_run, stored_run, workflow,
                              write_transactions)

__all__ = ["flow_run", "workflow"]  # fixtures
pytestmark = pytest.mark.filterwarnings("ignore:returning the existing artifact")


def _save_in(task, path, content, key="out.txt"):
    path.write_text(content)
    activation = lifecycle.activate(task)
    try:
        return ln.Artifact(path, key=key).save()
    finally:
        lifecycle.deactivate(activation)


def test_the_run_commits_with_its_first_artifact_and_its_end_waits_for_a_batch(
        workflow, flow_run, instance, tmp_path, monkeypatch):
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)
    task = deferred_task(workflow, flow_run)
    writes = write_transactions(instance)
    artifact = _save_in(task, tmp_path / "out.txt", "new content")
    assert len(writes) == 2  # the save's own two transactions; the run is in the first
    assert artifact.run_id == lifecycle.stored_id(task) is not None
    assert deferred.is_pending(task)  # for its end
    again = _save_in(task, tmp_path / "again.txt", "new content")  # content known: re-created
    assert again.id == artifact.id and len(writes) == 3
    lifecycle.finish_run(task, "completed")
    assert len(writes) == 3  # the end waits for its batch
    stored = stored_run("task-1")  # a read of runs writes the batch first
    assert stored.status == "completed" and stored.id == artifact.run_id
    assert len(writes) == 4 and not deferred.is_pending(task)


def test_a_save_does_not_write_the_batch_waiting(workflow, flow_run, instance, tmp_path,
                                                 monkeypatch):
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)
    ended = deferred_task(workflow, flow_run, "task-0")
    lifecycle.finish_run(ended, "completed")  # waits for its batch
    task = deferred_task(workflow, flow_run)
    writes = write_transactions(instance)
    _save_in(task, tmp_path / "out.txt", "new content")  # its content lookup reads artifacts only
    assert len(writes) == 2 and lifecycle.stored_id(ended) is None and deferred.is_pending(ended)


def test_a_resaved_content_takes_the_run_into_its_one_transaction(workflow, flow_run, instance,
                                                                  tmp_path):
    saved = ln.Artifact(_write(tmp_path / "a.txt", "known"), key="a.txt").save()
    task = deferred_task(workflow, flow_run)
    writes = write_transactions(instance)
    artifact = _save_in(task, tmp_path / "b.txt", "known", key="a.txt")
    assert artifact.id == saved.id and len(writes) == 1
    assert ln.Artifact.get(id=saved.id).run_id == lifecycle.stored_id(task)
    assert stored_run("task-1").status == "started"


def test_a_save_that_rolls_back_leaves_the_run_pending(workflow, flow_run, instance, tmp_path):
    if instance.db.dialect.name != "sqlite":
        pytest.skip("a SQLite trigger makes the save fail")
    task = deferred_task(workflow, flow_run)
    instance.db.write(lambda conn: conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON artifact BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    try:
        with pytest.raises(Exception, match="refused"):
            _save_in(task, tmp_path / "out.txt", "refused content")
    finally:
        instance.db.write(lambda conn: conn.execute("DROP TRIGGER refuse"))
    assert lifecycle.stored_id(task) is None and deferred.is_pending(task)
    assert stored_run("task-1") is None  # rolled back with the artifact's row
    artifact = _save_in(task, tmp_path / "out.txt", "accepted content")
    lifecycle.finish_run(task, "completed")
    assert ln.Artifact.get(id=artifact.id).run.status == "completed"
    assert ln.Run.filter(external_source="prefect", external_id="task-1").count() == 1


def _write(path, text):
    path.write_text(text)
    return path


#: A task saving an artifact, killed where the parent asks: at a statement of its save (from
#: SQLite's trace callback, before that statement runs), or once the save returned.
_SAVING_PROCESS = """
    import os, signal, sys, time
    from pathlib import Path
    import lineage as ln
    from lineage import lifecycle
    from lineage.instance import current_instance
    where, folder = sys.argv[1], Path(sys.argv[2])
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    flow = lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-k")
    known = folder / "known.txt"
    known.write_text("known content")
    ln.Artifact(known, key="known.txt").save()
    task = lifecycle.engine_run(workflow, external_source="prefect", external_id="task-k",
                                parent=flow, defer=True)

    def kill_at(sql):
        if sql.strip().upper().startswith(where):
            os.kill(os.getpid(), signal.SIGKILL)

    path = folder / "out.txt"
    path.write_text("known content" if where.startswith("UPDATE ARTIFACT SET RUN_ID") else "new")
    current_instance().db.connection().raw.set_trace_callback(kill_at if where != "SAVED" else None)
    activation = lifecycle.activate(task)
    ln.Artifact(path, key="known.txt" if "RUN_ID" in where else "out.txt").save()
    print("saved", flush=True)
    time.sleep(60)  # killed here: between the save and the task's end
"""


@pytest.mark.parametrize("where", [
    "INSERT INTO ARTIFACT",  # new content, in the transaction of its flagged row
    "UPDATE ARTIFACT SET STORAGE_ONGOING",  # new content, in the transaction completing it
    "UPDATE ARTIFACT SET RUN_ID",  # known content, in the transaction linking the run to it
    "SAVED",  # after the save, before the task's end
])
def test_a_kill_leaves_no_artifact_without_its_creating_run(instance, tmp_path, where):
    if instance.db.dialect.name != "sqlite":
        pytest.skip("the child kills itself from SQLite's trace callback")
    script = tmp_path / "task.py"
    script.write_text(textwrap.dedent(_SAVING_PROCESS))
    folder = tmp_path / "files"
    folder.mkdir()
    child = subprocess.Popen([sys.executable, str(script), where, str(folder)],
                             env=child_env(instance), stdout=subprocess.PIPE, text=True)
    try:
        if where == "SAVED":
            assert child.stdout.readline().strip() == "saved"
            os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        child.kill()
    rows = instance.db.query("SELECT key, run_id, storage_ongoing FROM artifact")
    run_ids = {r[0] for r in instance.db.query("SELECT id FROM run")}
    assert all(run_id is None or run_id in run_ids for _, run_id, _ in rows)
    task = stored_run("task-k")
    linked = [key for key, run_id, _ in rows if task is not None and run_id == task.id]
    if where == "SAVED":
        assert task.status == "started" and len(linked) == 1  # both, the end lost
    elif where == "UPDATE ARTIFACT SET STORAGE_ONGOING":
        assert task.status == "started" and linked == ["out.txt"]  # a flagged row and its run
    else:
        assert task is None and linked == []  # neither
