"""What ``durability = "full"`` guarantees, checked on real processes.

A finished run survives the end of its process at any level (the commit is
made before the call returns); at ``full`` the commits that end a run of the
process, and every artifact save, are also flushed to disk (an ``fsync`` of
the SQLite WAL) before the call returns, while the steps of an open flow
commit without one and become durable with the flow's end. The flushes are
observed with ``strace``: a power cut cannot be staged here, but the system
calls that make a commit survive one can be seen.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "artifacts"))
from artifact_helpers import REPO, child_result, instance_target, reconnect, run_child  # noqa: E402

import lineage as ln

STEPS = 20

CHILD = f"""
import os, sys
import lineage as ln

def mark(name):
    os.write(1, ("MARK " + name + "\\n").encode())

@ln.step()
def add_one(x: int) -> int:
    return x + 1

@ln.flow()
def pipeline() -> int:
    mark("flow-started")
    total = 0
    for i in range({STEPS}):
        total += add_one(i)
    mark("steps-returned")
    return total

pipeline()
mark("flow-returned")
path = os.path.join(sys.argv[1], "data.txt")
with open(path, "w") as f:
    f.write("some data")
ln.Artifact(path, key="data.txt").save()
mark("artifact-saved")
ln.track(params={{"a": 1}})
mark("tracked")
ln.finish()
mark("finished")
"""


def _strace_or_skip() -> str:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: the fsync checks need it (apt-get install strace)")
    probe = subprocess.run([strace, "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()}")
    return strace


def _traced_events(instance, tmp_path: Path) -> list[tuple[str, str]]:
    """(kind, detail) in order: ``write``/``sync`` of the WAL, ``mark`` lines of the child."""
    strace = _strace_or_skip()
    log = tmp_path / "strace.log"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {**os.environ, "PYTHONPATH": str(REPO), "LINEAGE_INSTANCE": instance_target(instance)}
    proc = subprocess.run(
        [strace, "-f", "-y", "-s", "40", "-o", str(log),
         "-e", "trace=write,pwrite64,pwritev,pwritev2,fsync,fdatasync,sync_file_range",
         sys.executable, str(script), str(tmp_path)],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wal = os.path.realpath(instance.db.sqlite_path) + "-wal"
    events: list[tuple[str, str]] = []
    call = re.compile(r"^\d+\s+(?:<\.\.\. )?(\w+)\(?(\d+)<([^>]*)>")
    for line in log.read_text().splitlines():
        if '"MARK ' in line:
            events.append(("mark", line.split('"MARK ', 1)[1].split("\\n", 1)[0]))
            continue
        match = call.match(line)
        if match is None or match.group(3) != wal or "resumed" in line:
            continue
        name = match.group(1)
        events.append(("sync" if name in ("fsync", "fdatasync") else "write", name))
    return events


def _between(events: list[tuple[str, str]], start: str, end: str) -> list[tuple[str, str]]:
    names = [e[1] if e[0] == "mark" else None for e in events]
    return events[names.index(start) + 1:names.index(end)]


def _flushed_before(events: list[tuple[str, str]], mark: str) -> bool:
    """Whether the WAL was synced after its last write before `mark`."""
    last_write = last_sync = -1
    for i, (kind, detail) in enumerate(events):
        if kind == "mark" and detail == mark:
            break
        if kind == "write":
            last_write = i
        elif kind == "sync":
            last_sync = i
    assert last_write >= 0, f"no write to the WAL before {mark}: {events}"
    return last_sync > last_write


def test_full_flushes_the_end_of_a_flow_a_save_and_a_tracked_run(sqlite_instance, tmp_path):
    ln.settings.durability = "full"
    events = _traced_events(sqlite_instance, tmp_path)
    for mark in ("flow-returned", "artifact-saved", "finished"):
        assert _flushed_before(events, mark), (
            f"at durability full, the WAL was written and not synced before {mark}")
    # The steps commit without a flush of their own: far fewer syncs than steps.
    during = [e for e in _between(events, "flow-started", "steps-returned") if e[0] == "sync"]
    writes = [e for e in _between(events, "flow-started", "steps-returned") if e[0] == "write"]
    assert len(writes) >= STEPS, "every step's start and finish is committed to the WAL"
    assert len(during) <= 2, f"{len(during)} WAL syncs for {STEPS} steps"


def test_normal_does_not_flush_at_the_end_of_a_run(sqlite_instance, tmp_path):
    """The default trades the flush for speed (and so the test above is not vacuous)."""
    events = _traced_events(sqlite_instance, tmp_path)
    assert not _flushed_before(events, "finished")


def test_finished_steps_survive_a_kill_of_their_flow(instance):
    """kill -9 right after steps finished inside an open flow: their finish is stored."""
    ln.settings.durability = "full"
    proc = run_child(instance, """
        import json, os, signal
        import lineage as ln

        @ln.step()
        def add_one(x: int) -> int:
            return x + 1

        @ln.flow()
        def pipeline() -> None:
            for i in range(3):
                add_one(i)
            from lineage.context import current_run
            print("RESULT " + json.dumps({"flow": current_run().uid}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        pipeline()
    """)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    flow_uid = child_result(proc)["flow"]
    reconnect(instance)
    flow = ln.Run.get(uid=flow_uid)
    assert flow.status == "started"
    steps = ln.Run.filter(initiated_by_run_id=flow.id).order_by("id").all()
    assert [(s.status, s.finished_at is not None) for s in steps] == [("completed", True)] * 3


def test_durable_finish_of_nested_and_top_level_runs(instance):
    from lineage.lifecycle import runs

    flow = runs.start_run(ln.Transform(key="f.py", hash="hf", kind="flow").save())
    step = runs.start_run(ln.Transform(key="s.py", hash="hs", kind="step").save(), parent=flow)
    other_process = runs.start_run(ln.Transform(key="o.py", hash="ho", kind="step").save(), parent=flow)
    flow._assign(pid=os.getpid() + 1)  # as if started by another process (forked)
    assert runs.durable_finish(flow) is True, "a top-level run's finish is flushed"
    assert runs.durable_finish(step) is True, "parent not open in this process"
    flow._assign(pid=os.getpid())
    assert runs.durable_finish(step) is False, "flushed with its open flow's end"
    runs.finish_run(step)
    runs.finish_run(flow)
    runs.finish_run(other_process)
    assert runs.durable_finish(other_process) is True, "parent finished"
