"""The run a child process links to (``LINEAGE_PARENT_RUN_UID``), set when it is started."""

from __future__ import annotations

import os
import subprocess
import sys

from lineage import lifecycle

PRINT_PARENT = "import os; print(os.environ.get('LINEAGE_PARENT_RUN_UID'))"


def _child_sees() -> str:
    out = subprocess.run([sys.executable, "-c", PRINT_PARENT], capture_output=True, text=True,
                         check=True).stdout.strip()
    return "" if out == "None" else out


def _forked_child_sees() -> str:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, (os.environ.get(lifecycle.PARENT_ENV) or "-").encode())
        os._exit(0)
    os.close(write)
    seen = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    return "" if seen == "-" else seen


def _run(workflow, external_id: str):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id=external_id)


def test_a_task_run_current_in_the_main_thread_is_set_only_when_a_child_starts(instance,
                                                                              monkeypatch):
    monkeypatch.delenv(lifecycle.PARENT_ENV, raising=False)
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    flow_run, task_run = _run(workflow, "flow"), _run(workflow, "task")
    flow = lifecycle.activate(flow_run, process_wide=True)
    assert os.environ[lifecycle.PARENT_ENV] == flow_run.uid  # a flow's: at once
    task = lifecycle.activate(task_run)
    # No setenv per task run (glibc keeps each value set for good) ...
    assert os.environ[lifecycle.PARENT_ENV] == flow_run.uid
    # ... until a process is started: it links to the task run.
    assert _child_sees() == task_run.uid
    assert _forked_child_sees() == task_run.uid
    lifecycle.deactivate(task)
    assert os.environ[lifecycle.PARENT_ENV] == flow_run.uid  # put back
    assert _child_sees() == flow_run.uid
    lifecycle.deactivate(flow)
    assert lifecycle.PARENT_ENV not in os.environ
    assert _child_sees() == ""


def test_many_task_runs_leave_the_environment_alone(instance, monkeypatch):
    monkeypatch.setenv(lifecycle.PARENT_ENV, "startedbyparent0")
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    for n in range(50):
        activation = lifecycle.activate(_run(workflow, f"task-{n}"))
        assert os.environ[lifecycle.PARENT_ENV] == "startedbyparent0"
        lifecycle.deactivate(activation)
    last = _run(workflow, "last")
    activation = lifecycle.activate(last)
    assert _child_sees() == last.uid
    lifecycle.deactivate(activation)
    assert os.environ[lifecycle.PARENT_ENV] == "startedbyparent0"  # this process's own parent


def test_a_run_current_in_a_worker_thread_does_not_change_what_children_see(instance,
                                                                           monkeypatch):
    import threading

    monkeypatch.delenv(lifecycle.PARENT_ENV, raising=False)
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    seen: list[str] = []

    def in_thread() -> None:
        activation = lifecycle.activate(_run(workflow, "threaded"))
        seen.append(_child_sees())
        lifecycle.deactivate(activation)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert seen == [""]  # the environment is the process's: a thread does not own it


def test_env_now_sets_it_at_once_for_engines_that_copy_the_environment(instance, monkeypatch):
    monkeypatch.delenv(lifecycle.PARENT_ENV, raising=False)
    workflow = lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "airflow")
    task_run = _run(workflow, "airflow-task")
    activation = lifecycle.activate(task_run, env_now=True)
    copied = dict(os.environ)  # as an Airflow operator builds its child's environment
    assert copied[lifecycle.PARENT_ENV] == task_run.uid
    lifecycle.deactivate(activation)
    assert lifecycle.PARENT_ENV not in os.environ
