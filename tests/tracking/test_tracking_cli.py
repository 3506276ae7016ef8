"""``lineage runs``, ``lineage show UID`` and ``lineage load --key KEY``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import lineage as ln
from lineage import lifecycle
from lineage.cli import build, main


@pytest.fixture
def runs_made(instance):  # noqa: ANN001, ANN201
    """A finished flow run with a step, and an errored script run."""
    transform = lifecycle.get_or_create_transform("wf.py", "print('v1')\n", "flow")
    flow_run = lifecycle.start_run(transform, params={"lr": 0.1, "prep": {"norm": True}},
                                   entrypoint="main", projects=["Proj"],
                                   cli_args=["wf.py", "--lr", "0.1"],
                                   git={"commit": "a" * 40, "branch": "main", "dirty": True,
                                        "remote": None, "path": "wf.py", "url": None})
    step_run = lifecycle.start_run(transform, entrypoint="subset", parent=flow_run, params={"n": 2})
    lifecycle.finish_run(step_run)
    lifecycle.finish_run(flow_run)
    script = lifecycle.get_or_create_transform("broken.py", "raise ValueError\n", "script")
    broken = lifecycle.start_run(script)
    lifecycle.finish_run(broken, "errored", "Traceback (most recent call last):\nValueError: nope")
    return flow_run, step_run, broken


def _invoke(*args: str):  # noqa: ANN202
    result = CliRunner().invoke(build(), list(args), catch_exceptions=False)
    return result


def test_runs_lists_recent_runs(runs_made) -> None:
    flow_run, step_run, broken = runs_made
    result = _invoke("runs")
    assert result.exit_code == 0, result.output
    for run in runs_made:
        assert run.uid in result.output
    assert "wf.py" in result.output and "broken.py" in result.output
    assert "subset" in result.output and "errored" in result.output
    assert result.output.index(broken.uid) < result.output.index(flow_run.uid)  # newest first

    only_errors = _invoke("runs", "--status", "errored")
    assert broken.uid in only_errors.output and flow_run.uid not in only_errors.output
    by_key = _invoke("runs", "--key", "wf.py", "-n", "1")
    assert step_run.uid in by_key.output and flow_run.uid not in by_key.output


def test_show_prints_the_run_tree(runs_made) -> None:
    flow_run, step_run, broken = runs_made
    result = _invoke("show", flow_run.uid)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Run {flow_run.uid}" in out and "completed" in out
    assert "transform: wf.py (v1, flow" in out
    assert "lr = 0.1" in out and "norm = True" in out
    assert "cli args: wf.py --lr 0.1" in out
    assert "Python" in out and "packages" in out
    assert f"git: {'a' * 40} on main (dirty)" in out  # whole when not a terminal
    assert "projects: Proj" in out and "initiated runs (1)" in out

    child = _invoke("show", step_run.uid[:8]).output  # a prefix is enough
    assert f"initiated by: run {flow_run.uid} · wf.py · main" in child
    assert "ValueError: nope" in _invoke("show", broken.uid).output


def test_show_unknown_uid_fails_cleanly(instance, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["show", "doesnotexist0000"])
    assert info.value.code == 1
    assert "no Run matches" in capsys.readouterr().err


def test_load_writes_source_and_refuses_to_overwrite(instance, tmp_path: Path) -> None:
    lifecycle.get_or_create_transform("pipelines/train.py", "print('v1')\n", "script")
    lifecycle.get_or_create_transform("pipelines/train.py", "print('v2')\n", "script")
    dev_dir = tmp_path / "dev"
    dev_dir.mkdir()
    ln.settings.dev_dir = str(dev_dir)
    target = dev_dir / "pipelines" / "train.py"

    result = _invoke("load", "--key", "pipelines/train.py")
    assert result.exit_code == 0 and "version 2" in result.output
    assert target.read_text() == "print('v2')\n"
    assert "already holds" in _invoke("load", "--key", "pipelines/train.py").output

    refused = CliRunner().invoke(build(), ["load", "--key", "pipelines/train.py", "--version", "1"])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert target.read_text() == "print('v2')\n"
    forced = _invoke("load", "--key", "pipelines/train.py", "--version", "1", "--force")
    assert forced.exit_code == 0 and target.read_text() == "print('v1')\n"


def test_load_unknown_key_fails_cleanly(instance, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["load", "--key", "missing.py"])
    assert info.value.code == 1
    assert "no transform 'missing.py'" in capsys.readouterr().err
