"""A workflow is named on the command line by its file name, a key suffix or its path.

Once a dev dir is set, ``my_workflow.py`` in ``scripts/`` gets the key
``scripts/my_workflow.py``; ``lineage view/describe/runs/load`` still find it
by ``my_workflow.py`` and list the candidates when a name is ambiguous.
"""

from __future__ import annotations

import pytest

import lineage as ln
from lineage.db.dialect import utcnow


@pytest.fixture
def workflows(instance, tmp_path):
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    ln.settings.dev_dir = str(project)
    made = {}
    for key in ("scripts/my_workflow.py", "a/prep.py", "b/prep.py", "prep_all.py"):
        source = f"print({key!r})\n"
        path = project / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        transform = ln.Transform(key=key, hash=f"h-{key}", source_code=source).save()
        made[key] = ln.Run(transform_id=transform.id, started_at=utcnow(), entrypoint="main").save()
    return project, made


def test_view_and_describe_find_a_workflow_by_its_file_name(workflows, tmp_path, capsys, cli):
    _, made = workflows
    run = made["scripts/my_workflow.py"]
    assert cli("view", "my_workflow.py", "-o", str(tmp_path / "g.dot")) == 0
    assert f"lineage of run {run.uid}" in capsys.readouterr().out
    assert cli("view", "scripts/my_workflow.py", "-o", str(tmp_path / "g.dot")) == 0
    assert f"lineage of run {run.uid}" in capsys.readouterr().out
    assert cli("describe", "my_workflow.py") == 0
    assert "scripts/my_workflow.py" in capsys.readouterr().out


def test_a_path_to_the_file_names_its_workflow(workflows, tmp_path, monkeypatch, capsys,
                                               cli):
    project, made = workflows
    monkeypatch.chdir(project / "scripts")
    assert cli("view", "./my_workflow.py", "-o", str(tmp_path / "g.dot")) == 0
    assert made["scripts/my_workflow.py"].uid in capsys.readouterr().out
    monkeypatch.chdir(project / "a")
    assert cli("view", "prep.py", "-o", str(tmp_path / "g.dot")) == 0  # the file here decides
    assert made["a/prep.py"].uid in capsys.readouterr().out


def test_an_ambiguous_name_lists_the_candidates(workflows, tmp_path, capsys, cli):
    for argv in (("view", "prep.py", "-o", str(tmp_path / "g.dot")), ("describe", "prep.py"),
                 ("runs", "--key", "prep.py"), ("load", "--key", "prep.py")):
        assert cli(*argv) == 1, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "a/prep.py" in err and "b/prep.py" in err and "prep_all.py" not in err


def test_runs_and_load_take_a_file_name(workflows, tmp_path, monkeypatch, capsys, cli):
    project, made = workflows
    assert cli("runs", "--key", "my_workflow.py") == 0
    assert made["scripts/my_workflow.py"].uid in capsys.readouterr().out
    (project / "scripts" / "my_workflow.py").unlink()
    assert cli("load", "--key", "my_workflow.py") == 0
    assert (project / "scripts" / "my_workflow.py").read_text() == "print('scripts/my_workflow.py')\n"
    capsys.readouterr()
    assert cli("view", "nothing.py", "-o", str(tmp_path / "g.dot")) == 1
    assert "no artifact or run matches 'nothing.py'" in capsys.readouterr().err
