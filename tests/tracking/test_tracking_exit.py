"""The end of a tracked script without `ln.finish()` (issue 10, item 8).

Real interpreters exit with their run still tracked: nothing may be
imported or registered at interpreter exit, and the run and its report are
recorded in the main process, in a child started with ``subprocess`` and in
``multiprocessing`` children of every start method.
"""

from __future__ import annotations

import sys

import pytest

import lineage as ln

# Registered before lineage's handler, so it runs after it; the spy is armed
# by a handler registered after lineage's, so it sees every import lineage's
# exit handler makes.
SPY = """
import atexit, sys
imported = []
atexit.register(lambda: print("imported at exit:", imported, file=sys.__stderr__))
class Spy:
    def find_spec(self, name, path=None, target=None):
        imported.append(name)
"""
ARM = "atexit.register(lambda: sys.meta_path.insert(0, Spy()))\n"


def test_a_script_without_finish_keeps_its_report_and_imports_nothing_at_exit(
        run_script, write_script, instance) -> None:
    script = write_script("no_finish_report.py", SPY + """
import uuid
import lineage as ln
ln.track()
print("printed by the script", uuid.uuid4())  # new content: the report is saved anew
""" + ARM)
    result = run_script(script)

    assert "imported at exit: []" in result.stderr, result.stderr  # else add to _REPORT_MODULES
    assert "not saved" not in result.stderr
    run = ln.Run.filter(transform__key="no_finish_report.py").one()
    assert run.status == "completed"
    assert run.report is not None
    assert run.report.cache().read_text().startswith("printed by the script ")


def test_a_child_process_without_finish_keeps_its_report(run_script, write_script, instance) -> None:
    child = write_script("child_no_finish.py", SPY + """
import lineage as ln
ln.track()
print("child output")
""" + ARM)
    parent = write_script("parent_of_child.py", f"""
import subprocess, sys
import lineage as ln
ln.track()
subprocess.run([sys.executable, {str(child)!r}], check=True)
""")
    result = run_script(parent)

    assert "imported at exit: []" in result.stderr, result.stderr
    parent_run = ln.Run.filter(transform__key="parent_of_child.py").one()
    child_run = ln.Run.filter(transform__key="child_no_finish.py").one()
    assert child_run.status == "completed" and child_run.initiated_by_run == parent_run
    assert child_run.report.cache().read_text() == "child output\n"
    assert parent_run.status == "completed"


@pytest.mark.skipif(sys.platform != "linux", reason="fork and forkserver start methods")
def test_multiprocessing_children_without_finish_are_recorded(run_script, write_script,
                                                              instance) -> None:
    script = write_script("mp_children.py", """
import multiprocessing as mp
import lineage as ln

def work(method, fail):
    ln.track(key=f"child-{method}-{fail}.py")
    print("output of", method)
    if fail:
        raise ValueError(f"child {method} failed")

if __name__ == "__main__":
    ln.track()
    try:
        raise KeyError("handled by the parent before it forks")
    except KeyError:
        for method in ("fork", "forkserver", "spawn"):
            for fail in (False, True):
                p = mp.get_context(method).Process(target=work, args=(method, fail))
                p.start()
                p.join()
""")
    run_script(script)

    parent = ln.Run.filter(transform__key="mp_children.py").one()
    for method in ("fork", "forkserver", "spawn"):
        ok = ln.Run.filter(transform__key=f"child-{method}-False.py").one()
        assert (ok.status, ok.error) == ("completed", None), method
        assert ok.initiated_by_run == parent
        assert ok.report.cache().read_text() == f"output of {method}\n"
        failed = ln.Run.filter(transform__key=f"child-{method}-True.py").one()
        assert failed.status == "errored", method
        assert f"ValueError: child {method} failed" in failed.error


@pytest.mark.parametrize(("code", "status", "exit_code"), [
    ("sys.exit(3)", "errored", 3),
    ("sys.exit('bad input')", "errored", 1),
    ("argparse.ArgumentParser().parse_args(['--nope'])", "errored", 2),  # argparse: sys.exit(2)
    ("sys.exit(0)", "completed", 0),
    ("sys.exit()", "completed", 0),
])
def test_sys_exit_with_a_failure_status_is_errored(run_script, write_script, instance, code,
                                                   status, exit_code) -> None:
    script = write_script("exits.py", f"""
import argparse, sys
import lineage as ln
ln.track()
print("working")
{code}
""")
    result = run_script(script, check=False)
    assert result.returncode == exit_code, result.stderr
    run = ln.Run.filter(transform__key="exits.py").one()
    assert run.status == status
    if status == "errored":
        assert f"exited with status {exit_code}" in run.error
        assert run.report is not None  # what it printed is kept
    else:
        assert run.error is None
