"""Flows started from thread pools stay unrelated (issue 10, item 9).

The worker-thread fallback (a thread that starts with an empty context
links to the newest flow of the process) is for steps; a top-level flow in
a worker thread links only to a run of its own context, to the tracked
script run of the process, or to a parent process.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lineage as ln


@ln.step()
def write(path: Path, text: str) -> ln.Artifact:
    path.write_text(text)
    return ln.Artifact(path, key=f"pool/{path.name}").save()


@ln.flow(project="Project A")
def flow_a(folder: Path, together: threading.Barrier, started: threading.Event) -> ln.Artifact:
    started.set()
    together.wait(timeout=30)  # both flows are running now
    artifact = write(folder / "a.txt", "made by flow a")
    together.wait(timeout=30)
    return artifact


@ln.flow()
def flow_b(folder: Path, together: threading.Barrier) -> ln.Artifact:
    together.wait(timeout=30)
    artifact = write(folder / "b.txt", "made by flow b")
    together.wait(timeout=30)
    return artifact


def test_two_flows_from_a_thread_pool_are_not_linked(instance, tmp_path: Path) -> None:
    together, started = threading.Barrier(2), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(flow_a, tmp_path, together, started)
        assert started.wait(timeout=30)  # flow b starts while flow a runs
        b = pool.submit(flow_b, tmp_path, together)
        artifact_a, artifact_b = a.result(timeout=60), b.result(timeout=60)

    run_a = ln.Run.filter(entrypoint="flow_a").one()
    run_b = ln.Run.filter(entrypoint="flow_b").one()
    assert run_a.initiated_by_run_id is None and run_b.initiated_by_run_id is None
    assert [p.name for p in run_a.projects] == ["Project A"]
    assert run_b.projects.count() == 0  # not the other flow's project
    assert [a.key for a in ln.Project.get(name="Project A").artifacts] == ["pool/a.txt"]
    assert artifact_a.run.initiated_by_run == run_a  # each step links to its own flow
    assert artifact_b.run.initiated_by_run == run_b
    assert artifact_b.projects.count() == 0


def test_flows_in_a_pool_link_to_the_tracked_script(run_script, write_script, instance) -> None:
    child = write_script("pool_child.py", "import lineage as ln\nln.track()\nln.finish()\n")
    script = write_script("pool_script.py", f"""
        import subprocess, sys, threading
        from concurrent.futures import ThreadPoolExecutor
        import lineage as ln

        together, started = threading.Barrier(2), threading.Event()

        @ln.flow()
        def job(name):
            started.set()
            together.wait(timeout=30)  # both jobs are running now
            return name

        ln.track()
        with ThreadPoolExecutor(2) as pool:
            x = pool.submit(job, "x")
            started.wait(timeout=30)  # job y starts while job x runs
            y = pool.submit(job, "y")
            print(x.result(), y.result())
        subprocess.run([sys.executable, {str(child)!r}], check=True)
        ln.finish()
    """)
    run_script(script)

    tracked = ln.Run.filter(transform__key="pool_script.py", entrypoint=None).one()
    jobs = ln.Run.filter(entrypoint="job").all()
    assert len(jobs) == 2 and all(j.initiated_by_run == tracked for j in jobs)
    child_run = ln.Run.filter(transform__key="pool_child.py").one()
    assert child_run.initiated_by_run == tracked  # not a flow of a worker thread
