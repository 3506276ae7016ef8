"""``lineage load`` writes notebooks back as ``.ipynb``; templates via ``lineage save --registry transform``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import lineage as ln
from lineage import lifecycle
from lineage.capture.notebook import notebook_transform_source
from lineage.cli import build

from notebook_helpers import cell, write_notebook


def _invoke(*args: str):  # noqa: ANN202
    return CliRunner().invoke(build(), list(args), catch_exceptions=False)


@pytest.fixture
def dev_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "dev"
    folder.mkdir()
    ln.settings.dev_dir = str(folder)
    return folder


def _template(path: Path) -> Path:
    return write_notebook(path, [
        cell("alpha = 1", tags=("parameters",)),
        cell("import lineage as ln\nln.track()"),
        cell("## Steps", kind="markdown"),
        cell("print('alpha', alpha)"),
        cell("ln.finish()"),
    ])


def test_save_template_as_transform_and_load_it_back_as_ipynb(instance, dev_dir, tmp_path) -> None:
    template = _template(tmp_path / "elsewhere" / "template.ipynb")
    result = _invoke("save", str(template), "--key", "templates/t1.ipynb", "--registry", "transform")
    assert result.exit_code == 0, result.output
    transform = ln.Transform.get(key="templates/t1.ipynb")
    assert (transform.kind, transform.version) == ("notebook", 1)
    assert transform.uid in result.output and not transform.runs.exists()
    # saved again unchanged: the same transform, no new version
    _invoke("save", str(template), "--key", "templates/t1.ipynb", "--registry", "transform")
    assert ln.Transform.filter(key="templates/t1.ipynb").count() == 1

    loaded = _invoke("load", "--key", "templates/t1.ipynb")
    target = dev_dir / "templates" / "t1.ipynb"
    assert loaded.exit_code == 0 and str(target) in loaded.output
    assert not (dev_dir / "templates" / "t1.py").exists()
    import nbformat

    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["code", "code", "markdown", "code", "code"]
    assert nb.cells[0].metadata["tags"] == ["parameters"]
    assert notebook_transform_source(target) == transform.source_code

    # by uid (a prefix, or the stem of the family) too, and "already holds" the second time
    target.unlink()
    assert _invoke("load", transform.uid[:12]).exit_code == 0 and target.is_file()
    assert "already holds" in _invoke("load", transform.uid).output


def test_load_a_tracked_notebook_keeps_cells_and_drops_outputs(instance, dev_dir) -> None:
    notebook = _template(dev_dir / "analysis.ipynb")
    nb = json.loads(notebook.read_text())
    nb["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "alpha 1\n"}]
    notebook.write_text(json.dumps(nb))
    lifecycle.get_or_create_transform("analysis.ipynb", notebook_transform_source(notebook),
                                      "notebook")
    # the file with outputs holds the same notebook: nothing to overwrite
    assert "already holds" in _invoke("load", "--key", "analysis.ipynb").output
    notebook.unlink()
    _invoke("load", "--key", "analysis.ipynb")
    written = json.loads(notebook.read_text())
    assert written["cells"][3]["outputs"] == [] and written["cells"][3]["source"] == "print('alpha', alpha)"


def test_notebook_recorded_as_code_by_older_versions_loads_as_py(instance, dev_dir) -> None:
    lifecycle.get_or_create_transform("old.ipynb", "x = 1\n\nprint(x)\n", "notebook")
    assert _invoke("load", "--key", "old.ipynb").exit_code == 0
    assert (dev_dir / "old.py").read_text() == "x = 1\n\nprint(x)\n"


def test_load_needs_uid_or_key(instance) -> None:
    result = CliRunner().invoke(build(), ["load"])
    assert result.exit_code != 0 and "UID or --key" in result.output


def test_loaded_template_run_under_new_name_or_after_edits(sqlite_runners, sqlite_instance,
                                                          tmp_path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    ln.settings.dev_dir = str(dev)
    _template(tmp_path / "template.ipynb")
    _invoke("save", str(tmp_path / "template.ipynb"), "--key", "templates/t1.ipynb",
            "--registry", "transform")
    _invoke("load", "--key", "templates/t1.ipynb")
    loaded = dev / "templates" / "t1.ipynb"

    sqlite_runners.nbconvert(loaded)  # run as loaded: the template's transform, no new version
    template = ln.Transform.get(key="templates/t1.ipynb")
    assert ln.Transform.filter(key="templates/t1.ipynb").count() == 1
    assert template.latest_run.status == "completed"

    renamed = dev / "mine.ipynb"  # under a new name: a new transform with the template's cells
    renamed.write_text(loaded.read_text())
    sqlite_runners.nbconvert(renamed)
    mine = ln.Transform.get(key="mine.ipynb")
    assert mine.source_code == template.source_code and mine.uid != template.uid

    nb = json.loads(loaded.read_text())  # edited: version 2 of the template's key
    nb["cells"][3]["source"] = "print('alpha is', alpha)"
    loaded.write_text(json.dumps(nb))
    sqlite_runners.nbconvert(loaded)
    v2 = ln.Transform.get(key="templates/t1.ipynb", is_latest=True)
    assert v2.version == 2 and v2.uid[:12] == template.uid[:12]
    assert "alpha is" in v2.source_code and v2.latest_run.status == "completed"
