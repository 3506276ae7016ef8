"""``ln.track()`` in real scripts: what is stored, and the final status in every ending."""

from __future__ import annotations

import platform
import signal
from pathlib import Path

import pytest

import lineage as ln

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

NESTED_PARAMS = {
    "input": "raw/sample.csv",
    "preprocess": {"downsample": True, "normalize": "zscore", "n_top": 20},
    "model": {"name": "linear", "learning_rate": 0.01},
}

SLEEPER = """
import sys, time
import lineage as ln
ln.track(params={"seconds": 60})
print("ready", flush=True)
time.sleep(60)
ln.finish()
"""


def _wait_ready(proc) -> None:  # noqa: ANN001
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")


def test_track_example_stores_source_params_cli_args_and_projects(run_script, instance) -> None:
    script = EXAMPLES / "track_nested_params.py"
    result = run_script(script, "--verbose", "extra")

    run = ln.Run.filter(transform__key="track_nested_params.py").one()
    assert f"run {run.uid}:" in result.stdout
    assert run.status == "completed"
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.params == NESTED_PARAMS
    assert run.cli_args == [str(script), "--verbose", "extra"]
    assert run.entrypoint is None and run.initiated_by_run_id is None
    transform = run.transform
    assert transform.kind == "script"
    assert transform.source_code == script.read_text()
    assert transform.version == 1 and transform.is_latest
    assert ln.Run.filter(params__preprocess__downsample=True).one() == run
    assert ln.Run.filter(params__model__learning_rate=0.01).one() == run
    assert ln.Run.filter(params__preprocess__downsample=False).count() == 0
    assert [p.name for p in run.projects] == ["Examples"]
    assert [t.key for t in ln.Project.get(name="Examples").transforms] == ["track_nested_params.py"]
    assert ln.Transform.get(key="track_nested_params.py").latest_run == run


def test_two_runs_share_transform_and_environment(run_script, instance) -> None:
    script = EXAMPLES / "track_nested_params.py"
    run_script(script)
    run_script(script)

    first, second = ln.Run.filter(transform__key="track_nested_params.py").order_by("id").all()
    assert first.transform_id == second.transform_id
    assert ln.Transform.filter(key="track_nested_params.py").count() == 1
    assert first.environment_id is not None
    assert first.environment_id == second.environment_id
    assert ln.Environment.filter().count() == 1
    environment = first.environment
    assert environment.python_version == platform.python_version()
    assert "click" in environment.packages
    assert environment.host["cpu_count"] >= 1
    assert first.pid != second.pid and first.host == platform.node()


def test_exception_marks_run_errored_with_traceback(run_script, write_script, instance) -> None:
    script = write_script("failing.py", """
        import lineage as ln
        ln.track()
        def load(path):
            raise FileNotFoundError(f"no such input: {path}")
        load("raw/missing.csv")
    """)
    result = run_script(script, check=False)

    assert result.returncode == 1
    assert "FileNotFoundError: no such input: raw/missing.csv" in result.stderr  # still printed
    run = ln.Run.filter(transform__key="failing.py").one()
    assert run.status == "errored"
    assert run.finished_at is not None
    assert "Traceback (most recent call last)" in run.error
    assert 'in load' in run.error
    assert "FileNotFoundError: no such input: raw/missing.csv" in run.error


def test_missing_finish_completes_at_exit(run_script, write_script, instance) -> None:
    script = write_script("no_finish.py", """
        import lineage as ln
        ln.track(params={"a": 1})
        print("done")
    """)
    run_script(script)

    run = ln.Run.filter(transform__key="no_finish.py").one()
    assert run.status == "completed"
    assert run.finished_at is not None
    assert run.error is None


def test_sigterm_aborts_the_run_and_kills_with_sigterm(run_script, write_script, instance) -> None:
    script = write_script("sleeper.py", SLEEPER)
    proc = run_script.popen(script)
    _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)

    assert proc.returncode == -signal.SIGTERM
    run = ln.Run.filter(transform__key="sleeper.py").one()
    assert run.status == "aborted"
    assert run.finished_at is not None
    assert "SIGTERM" in run.error


def test_sigterm_chains_a_previous_handler(run_script, write_script, instance) -> None:
    script = write_script("graceful.py", """
        import signal, sys, time
        import lineage as ln
        def graceful(signum, frame):
            print("cleaning up", flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, graceful)
        ln.track()
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = run_script.popen(script)
    _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)

    assert proc.returncode == 3
    assert "cleaning up" in out
    assert ln.Run.filter(transform__key="graceful.py").one().status == "aborted"


def test_ctrl_c_aborts_the_run(run_script, write_script, instance) -> None:
    script = write_script("interrupted.py", SLEEPER)
    proc = run_script.popen(script)
    _wait_ready(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    run = ln.Run.filter(transform__key="interrupted.py").one()
    assert run.status == "aborted"
    assert "KeyboardInterrupt" in run.error


def test_sigterm_inside_a_flow_aborts_flow_and_step(run_script, write_script, instance) -> None:
    script = write_script("flow_sleeper.py", """
        import time
        import lineage as ln
        @ln.step()
        def wait():
            print("ready", flush=True)
            time.sleep(60)
        @ln.flow()
        def main():
            wait()
        main()
    """)
    proc = run_script.popen(script)
    _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)

    assert proc.returncode == -signal.SIGTERM
    runs = ln.Run.filter(transform__key="flow_sleeper.py").order_by("id").all()
    assert [(r.entrypoint, r.status) for r in runs] == [("main", "aborted"), ("wait", "aborted")]


def test_child_process_links_to_the_active_run(run_script, write_script, instance) -> None:
    child = write_script("child.py", """
        import os
        import lineage as ln
        ln.track()
        ln.finish()
    """)
    parent = write_script("parent.py", f"""
        import os, subprocess, sys
        import lineage as ln
        CHILD = {str(child)!r}

        @ln.step()
        def launch():
            subprocess.run([sys.executable, CHILD], check=True)

        ln.track()
        subprocess.run([sys.executable, CHILD], check=True)
        launch()
        ln.finish()
        subprocess.run([sys.executable, CHILD], check=True)
        print("after finish:", os.environ.get("LINEAGE_PARENT_RUN_UID"))
    """)
    result = run_script(parent)

    assert "after finish: None" in result.stdout
    tracked = ln.Run.filter(transform__key="parent.py", entrypoint=None).one()
    step_run = ln.Run.filter(transform__key="parent.py", entrypoint="launch").one()
    assert step_run.initiated_by_run == tracked
    children = ln.Run.filter(transform__key="child.py").order_by("id").all()
    assert [c.initiated_by_run_id for c in children] == [tracked.id, step_run.id, None]
    assert all(c.status == "completed" for c in children)


def test_git_commit_dirty_flag_and_new_version(run_script, git, instance, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://alice:s3cr3t-token@git.example.com/org/repo.git")
    script = repo / "analysis.py"
    script.write_text("import lineage as ln\nln.track(params={'k': 1})\nln.finish()\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD")

    run_script(script, cwd=repo)
    script.write_text(script.read_text() + "print('changed')\n")
    run_script(script, cwd=repo)

    clean, dirty = ln.Run.filter(transform__key="analysis.py").order_by("id").all()
    assert clean.git["commit"] == head and clean.git["branch"] == "main"
    assert clean.git["dirty"] is False
    assert clean.git["path"] == "analysis.py"
    assert "s3cr3t-token" not in clean.git["remote"] and "git.example.com" in clean.git["remote"]
    assert dirty.git["commit"] == head and dirty.git["dirty"] is True
    v1, v2 = clean.transform, dirty.transform
    assert (v1.version, v2.version) == (1, 2)
    assert v1.uid[:12] == v2.uid[:12] and v1.uid != v2.uid
    v1.refresh()
    assert not v1.is_latest and v2.is_latest
    assert v2.source_code.endswith("print('changed')\n")


def test_secrets_are_redacted_in_params_and_cli_args(run_script, write_script, instance) -> None:
    script = write_script("secretive.py", """
        import lineage as ln
        ln.track(params={"db_password": "pw-1", "api": {"token": "tk-2"}, "lr": 0.5})
        ln.finish()
    """)
    run_script(script, "--password", "pw-3", "--api-key=sk-4", "token=tk-5", "--lr", "0.5")

    run = ln.Run.filter(transform__key="secretive.py").one()
    assert run.params == {"db_password": "***", "api": {"token": "***"}, "lr": 0.5}
    assert run.cli_args == [str(script), "--password", "***", "--api-key=***", "token=***", "--lr", "0.5"]
    stored = str(instance.db.query("SELECT params, cli_args FROM run"))
    for secret in ("pw-1", "tk-2", "pw-3", "sk-4", "tk-5"):
        assert secret not in stored


def test_printed_output_becomes_the_run_report(run_script, write_script, instance) -> None:
    script = write_script("printer.py", """
        import sys
        import lineage as ln
        ln.track()
        print("to stdout")
        print("to stderr", file=sys.stderr)
        ln.finish()
        print("after finish")
    """)
    result = run_script(script)

    assert result.stdout.splitlines() == ["to stdout", "after finish"]  # still printed
    assert "to stderr" in result.stderr
    run = ln.Transform.get(key="printer.py").latest_run
    report = run.report
    assert report is not None and report.run_id is None  # not an output of the run
    assert report.cache().read_text() == "to stdout\nto stderr\n"
    from click.testing import CliRunner

    from lineage.cli import build

    shown = CliRunner().invoke(build(), ["show", run.uid]).output
    assert f"report: (no key) v1 · 20 B · uid {report.uid}" in shown


def test_report_of_a_failed_script_holds_the_traceback(run_script, write_script, instance) -> None:
    script = write_script("crash.py", """
        import lineage as ln
        ln.track()
        print("step 1 done")
        raise RuntimeError("step 2 failed")
    """)
    run_script(script, check=False)

    run = ln.Transform.get(key="crash.py").latest_run
    text = run.report.cache().read_text()
    assert text.startswith("step 1 done\n") and "RuntimeError: step 2 failed" in text


def test_second_track_raises_naming_the_active_run(instance, finish_tracked) -> None:
    run = ln.track(key="second_track.py")
    with pytest.raises(ln.errors.RunAlreadyActive) as info:
        ln.track(key="second_track.py")
    assert run.uid in str(info.value) and "ln.finish()" in str(info.value)
    assert ln.Run.filter().count() == 1

    finished = ln.finish()
    assert finished is run and run.status == "completed"
    again = ln.track(key="second_track.py")
    assert again.uid != run.uid
    ln.finish()
    with pytest.raises(ln.errors.NoActiveRun):
        ln.finish()


def test_track_cannot_start_inside_a_flow(instance) -> None:
    @ln.flow()
    def outer() -> None:
        ln.track(key="inside.py")

    with pytest.raises(ln.errors.RunAlreadyActive, match="flow or step"):
        outer()
    assert ln.Run.filter(status="errored").count() == 1


def test_invalid_features_write_nothing(instance, finish_tracked) -> None:
    ln.Feature(name="experiment", dtype=str).save()
    before = {t: instance.db.query(f"SELECT COUNT(*) FROM {t}")[0][0]
              for t in ("run", "transform", "environment", "project")}

    with pytest.raises(ln.errors.ValidationError, match="'experimnet'"):
        ln.track(features={"experimnet": "Experiment1"}, project="P")
    with pytest.raises(ln.errors.ValidationError, match="'experiment'.*int"):
        ln.track(features={"experiment": 1}, project="P")

    after = {t: instance.db.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in before}
    assert after == before
    assert ln.tracking.tracked_run() is None


def test_valid_features_are_stored_and_queryable(instance, finish_tracked) -> None:
    ln.Feature(name="experiment", dtype=str).save()
    ln.Feature(name="replicate", dtype=int).save()
    kind = ln.Label(name="Tissue", is_type=True).save()
    ln.Label(name="liver", type=kind).save()
    ln.Feature(name="tissue", dtype=kind).save()

    run = ln.track(key="features.py",
                   features={"experiment": "Experiment1", "replicate": 2, "tissue": "liver"})
    ln.finish()

    assert run.features.get_values() == {"experiment": "Experiment1", "replicate": 2, "tissue": "liver"}
    assert ln.Run.filter(experiment="Experiment1").one() == run
    assert ln.Run.filter(replicate=3).count() == 0
    with pytest.raises(ln.errors.ValidationError, match="'tissue'"):
        ln.track(key="features.py", features={"tissue": "brain"})


def test_non_json_params_stored_as_repr_with_warning(instance, finish_tracked) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(42)"

    with pytest.warns(UserWarning, match="'model'"):
        run = ln.track(params={"model": Opaque(), "n": 1}, key="opaque.py")
    ln.finish()

    stored = ln.Run.get(run.uid).params
    assert stored["n"] == 1
    assert stored["model"]["__repr__"] == "Opaque(42)"
    assert stored["model"]["__type__"].endswith("Opaque")


def test_track_links_existing_project_records(instance, finish_tracked) -> None:
    existing = ln.Project(name="Existing").save()
    run = ln.track(key="projects.py", project=[existing, "New one"])

    from lineage import lifecycle

    ids = lifecycle.run_project_ids(run)
    ln.finish()
    names = sorted(p.name for p in run.projects)
    assert names == ["Existing", "New one"]
    assert sorted(ids) == sorted(p.id for p in run.projects)
    assert [t.key for t in ln.Project.get(name="New one").transforms] == ["projects.py"]


def test_notebook_tracking(instance, finish_tracked, monkeypatch, tmp_path: Path) -> None:
    import json

    notebook = tmp_path / "analysis.ipynb"
    cells = [{"cell_type": "code", "source": ["import lineage as ln\n", "ln.track()"], "outputs": []},
             {"cell_type": "markdown", "source": ["# Notes"]},
             {"cell_type": "code", "source": ["x = 1"], "outputs": []}]
    notebook.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setenv("LINEAGE_NOTEBOOK_PATH", str(notebook))
    monkeypatch.setattr("lineage.capture.source.detect_kind", lambda: "notebook")

    first = ln.track()
    transform = first.transform
    assert (transform.key, transform.kind) == ("analysis.ipynb", "notebook")
    stored = json.loads(transform.source_code)  # the .ipynb, all cells, no outputs
    assert [(c["cell_type"], c["source"]) for c in stored["cells"]] == [
        ("code", "import lineage as ln\nln.track()"), ("markdown", "# Notes"), ("code", "x = 1")]
    with pytest.warns(UserWarning, match=first.uid):  # re-running the cell
        second = ln.track()
    assert ln.Run.get(first.uid).status == "completed"
    assert second.transform_id == first.transform_id and second.status == "started"
    ln.finish()
    assert second.report_id is None


def test_tracking_stays_light(run_script, write_script, instance) -> None:
    script = write_script("light.py", """
        import signal, sys
        before = (signal.getsignal(signal.SIGTERM), sys.excepthook)
        import lineage.decorators, lineage.lifecycle, lineage.tracking  # no side effects
        assert (signal.getsignal(signal.SIGTERM), sys.excepthook) == before
        import lineage as ln

        @ln.step()
        def step(x: int) -> int:
            return x

        @ln.flow()
        def main() -> int:
            return step(1)

        ln.track(params={"a": 1})
        main()
        ln.finish()
        heavy = {"sqlalchemy", "alembic", "git", "psutil", "pandas", "networkx", "fsspec", "rich"}
        print(sorted(heavy & set(sys.modules)))
    """)
    result = run_script(script)
    assert result.stdout.strip().splitlines()[-1] == "[]"
