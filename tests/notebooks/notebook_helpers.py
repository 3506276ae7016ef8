"""Helpers for notebook tests: notebooks executed by real runners and real kernels.

Each runner (nbclient, ``jupyter execute``, ``jupyter nbconvert --execute``,
papermill) runs in a subprocess whose environment points ``LINEAGE_INSTANCE``
at the test's instance; the ipykernel it starts inherits that environment.
The ``python3`` kernel spec is the one ipykernel installs into this venv
(``<venv>/share/jupyter/kernels/python3``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def cell(source: str, kind: str = "code", tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A notebook cell (nbformat 4) with dedented source."""
    import nbformat

    text = textwrap.dedent(source).strip("\n")
    made = (nbformat.v4.new_code_cell(text) if kind == "code"
            else nbformat.v4.new_markdown_cell(text))
    if tags:
        made.metadata["tags"] = list(tags)
    return made


def write_notebook(path: Path, cells: list[dict[str, Any]]) -> Path:
    """Write an ``.ipynb`` with a python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@dataclass
class Runners:
    """Runs notebooks headless against one instance."""

    env: dict[str, str]
    cwd: Path

    def run(self, argv: list[str], *, extra_env: dict[str, str] | None = None,
            check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(argv, cwd=cwd or self.cwd, env={**self.env, **(extra_env or {})},
                                capture_output=True, text=True, timeout=240)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} exited with {result.returncode}\n--- stdout\n"
                                 f"{result.stdout}\n--- stderr\n{result.stderr}")
        return result

    def nbclient(self, notebook: Path, **kwargs: Any) -> subprocess.CompletedProcess:
        """``nbclient.NotebookClient(...).execute()`` from a Python program."""
        code = textwrap.dedent(f"""
            import nbformat, nbclient
            nb = nbformat.read({str(notebook)!r}, as_version=4)
            nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                    resources={{"metadata": {{"path": {str(notebook.parent)!r}}}}}
                                    ).execute()
            nbformat.write(nb, {str(notebook.with_suffix(".out.ipynb"))!r})
        """)
        return self.run([sys.executable, "-c", code], **kwargs)

    def jupyter_execute(self, notebook: Path, **kwargs: Any) -> subprocess.CompletedProcess:
        return self.run([str(BIN / "jupyter-execute"), str(notebook)], **kwargs)

    def nbconvert(self, notebook: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        return self.run([str(BIN / "jupyter-nbconvert"), "--execute", "--to", "notebook",
                         "--output", notebook.stem + ".executed", *args, str(notebook)], **kwargs)

    def papermill(self, notebook: Path, output: Path, *params: str,
                  **kwargs: Any) -> subprocess.CompletedProcess:
        return self.run([str(BIN / "papermill"), str(notebook), str(output), "-k", "python3",
                         *params], **kwargs)

    def papermill_api(self, notebook: Path, output: Path, parameters: dict[str, Any],
                      **kwargs: Any) -> subprocess.CompletedProcess:
        code = (f"import papermill\npapermill.execute_notebook({str(notebook)!r}, "
                f"{str(output)!r}, parameters={parameters!r}, kernel_name='python3')\n")
        return self.run([sys.executable, "-c", code], **kwargs)


def make_runners(instance: Any, tmp_path: Path) -> Runners:
    target = str(instance.root) if instance.root is not None else instance.db.url
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LINEAGE_", "JPY_")) and k != "PYTHONSTARTUP"}
    env["LINEAGE_INSTANCE"] = target
    env["LINEAGE_CONFIG_DIR"] = os.environ["LINEAGE_CONFIG_DIR"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PATH"] = os.pathsep.join((str(BIN), env.get("PATH", "")))
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return Runners(env, cwd)


