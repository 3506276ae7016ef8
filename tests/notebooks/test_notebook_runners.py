"""Notebooks executed headless by real runners are recorded as notebooks.

For each runner: the transform is the notebook file (key, kind, the cleaned
``.ipynb`` as source), the run has the parameters of the ``parameters`` cell
(papermill's injected values), the artifacts loaded and saved in the
notebook are its inputs and outputs, and the report is the executed notebook
as HTML, outputs included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lineage as ln
from lineage.capture.notebook import clean_notebook, dumps, read_notebook

from notebook_helpers import cell

pytestmark = pytest.mark.timeout(600)


def _analysis_cells(track: str = "ln.track()") -> list:
    return [
        cell("""
            alpha = 0.1
            name = "default"
        """, tags=("parameters",)),
        cell(f"""
            import lineage as ln
            run = {track}
        """),
        cell("# Analysis\nRead the raw data, write a result.", kind="markdown"),
        cell("""
            raw = ln.Artifact.get(key="raw/counts.txt")
            counts = raw.cache().read_text()
            from pathlib import Path
            Path("result.txt").write_text(f"{name}: {alpha * len(counts)}")
            result = ln.Artifact("result.txt", key="nb/result.txt").save()
            print("scaled by", alpha)
        """),
        cell("""
            from IPython.display import HTML, display
            display(HTML("<b>bold-output-marker</b>"))
            41 + 1
        """),
        cell("ln.finish()"),
    ]


@pytest.fixture
def raw(tmp_path: Path) -> ln.Artifact:
    source = tmp_path / "counts.txt"
    source.write_text("0123456789")
    return ln.Artifact(source, key="raw/counts.txt").save()


def _report_html(run: ln.Run) -> str:
    assert run.report is not None, "the run has no report"
    return Path(run.report.cache()).read_text(encoding="utf-8")


def _check_recorded(notebook: Path, raw: ln.Artifact, params: dict) -> ln.Run:
    transform = ln.Transform.get(key=notebook.name)
    assert transform.kind == "notebook"
    stored = json.loads(transform.source_code)
    assert stored == json.loads(dumps(clean_notebook(read_notebook(notebook))))
    assert [c["cell_type"] for c in stored["cells"]][:3] == ["code", "code", "markdown"]
    assert all(c.get("outputs", []) == [] for c in stored["cells"])
    run = transform.latest_run
    assert run.status == "completed"
    assert run.params == params
    assert [a.uid for a in run.input_artifacts] == [raw.uid]
    assert [a.key for a in run.output_artifacts] == ["nb/result.txt"]
    html = _report_html(run)
    assert "<html" in html.lower()
    assert "scaled by" in html  # a printed line
    assert "bold-output-marker" in html  # a displayed object
    assert "42" in html  # an execute result
    assert "Read the raw data" in html  # markdown cells are there too
    return run


def test_papermill_cli_parameters_become_run_params(runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("analysis.ipynb", _analysis_cells())
    output = notebook.with_name("analysis.out.ipynb")
    runners.papermill(notebook, output, "-p", "alpha", "0.5", "-p", "name", "tuned")
    run = _check_recorded(notebook, raw, {"alpha": 0.5, "name": "tuned"})
    assert Path(ln.Artifact.get(key="nb/result.txt").cache()).read_text() == "tuned: 5.0"
    # papermill's injected cell is in the report, not in the transform's source
    assert "Injected-Parameters" not in ln.Transform.get(key="analysis.ipynb").source_code
    assert "tuned" in _report_html(run)


def test_papermill_api_with_path_from_environment(sqlite_runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("api.ipynb", _analysis_cells())
    sqlite_runners.papermill_api(notebook, notebook.with_name("api.out.ipynb"), {"alpha": 2},
                                 extra_env={"LINEAGE_NOTEBOOK_PATH": str(notebook)})
    _check_recorded(notebook, raw, {"alpha": 2, "name": "default"})


def test_nbconvert_execute(sqlite_runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("converted.ipynb", _analysis_cells())
    sqlite_runners.nbconvert(notebook)
    run = _check_recorded(notebook, raw, {"alpha": 0.1, "name": "default"})
    # ln.track() and ln.finish() said what they did, in the cells' output
    executed = notebook.with_name("converted.executed.ipynb").read_text()
    assert f"lineage: tracking converted.ipynb v1 (notebook), run {run.uid}" in executed
    assert (f"lineage: finished run {run.uid} of converted.ipynb v1 (notebook): completed; "
            f"report: artifact {run.report.uid} (executed notebook as HTML)") in executed


def test_jupyter_execute(sqlite_runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("executed.ipynb", _analysis_cells())
    sqlite_runners.jupyter_execute(notebook)
    _check_recorded(notebook, raw, {"alpha": 0.1, "name": "default"})


def test_nbclient_with_explicit_path(sqlite_runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("client.ipynb", [])
    cells = _analysis_cells(track=f"ln.track(path={str(notebook)!r})")
    notebook = notebook_factory("client.ipynb", cells)
    result = sqlite_runners.nbclient(notebook)
    assert "could not find the path" not in result.stderr
    _check_recorded(notebook, raw, {"alpha": 0.1, "name": "default"})


def test_nbclient_without_path_says_so_and_never_records_main_py(
        sqlite_runners, notebook_factory, raw) -> None:
    notebook = notebook_factory("lost.ipynb", _analysis_cells())
    result = sqlite_runners.nbclient(notebook)
    out = notebook.with_suffix(".out.ipynb").read_text()
    assert "could not find the path of this notebook" in out
    assert "ln.track(path=" in out and "LINEAGE_NOTEBOOK_PATH" in out
    assert not ln.Transform.filter(key="__main__.py").exists()
    transform = ln.Transform.get(key="__notebook__.ipynb")
    assert transform.kind == "notebook"
    code = [c["source"] for c in json.loads(transform.source_code)["cells"]]
    assert code[0].startswith("alpha = 0.1") and "ln.track()" in code[1]
    assert transform.latest_run.status == "completed"
    assert result.returncode == 0


def test_kernel_shutdown_without_finish_completes_the_run(sqlite_runners, notebook_factory,
                                                          raw) -> None:
    notebook = notebook_factory("unfinished.ipynb", _analysis_cells()[:-1])
    sqlite_runners.nbconvert(notebook)
    run = ln.Transform.get(key="unfinished.ipynb").latest_run
    assert run.status == "completed" and run.finished_at is not None
    assert "bold-output-marker" in _report_html(run)


def test_rerunning_the_track_cell_finishes_the_previous_run_with_its_report(
        sqlite_runners, notebook_factory, raw) -> None:
    cells = _analysis_cells()
    cells.insert(-1, cell("run2 = ln.track()"))  # as re-running the first cell does
    notebook = notebook_factory("rerun.ipynb", cells)
    sqlite_runners.nbconvert(notebook)
    first, second = ln.Transform.get(key="rerun.ipynb").runs.order_by("started_at", "id")
    assert (first.status, second.status) == ("completed", "completed")
    assert "bold-output-marker" in _report_html(first)
    assert second.report is not None and "run2" in _report_html(second)


def test_jupyter_server_session_name(sqlite_runners, notebook_factory, raw) -> None:
    # Jupyter Server 2+ starts every kernel with JPY_SESSION_NAME=<notebook path>
    notebook = notebook_factory("lab.ipynb", _analysis_cells())
    sqlite_runners.nbclient(notebook, extra_env={"JPY_SESSION_NAME": str(notebook)})
    _check_recorded(notebook, raw, {"alpha": 0.1, "name": "default"})


def test_vscode_notebook_file(sqlite_runners, notebook_factory, raw) -> None:
    # VS Code's Jupyter extension defines __vsc_ipynb_file__ in the kernel before any cell
    notebook = notebook_factory("vscode.ipynb", [])
    cells = _analysis_cells()
    cells[1].source = f"__vsc_ipynb_file__ = {str(notebook)!r}\n" + cells[1].source
    notebook_factory("vscode.ipynb", cells)
    sqlite_runners.nbclient(notebook)
    _check_recorded(notebook, raw, {"alpha": 0.1, "name": "default"})
