"""The running notebook: its path, its source as ``.ipynb`` and its parameters.

Where the path of a notebook comes from, first match wins (`find_notebook`):

1. ``ln.track(path=...)``;
2. the ``LINEAGE_NOTEBOOK_PATH`` environment variable;
3. VS Code's ``__vsc_ipynb_file__`` in the kernel's namespace;
4. ``JPY_SESSION_NAME``, set by Jupyter Server 2+ (JupyterLab, Notebook 7)
   for the kernels it starts;
5. the command line of the process that started the kernel
   (``JPY_PARENT_PID``, else the parent process): ``papermill in.ipynb
   out.ipynb``, ``jupyter nbconvert --execute nb.ipynb``, ``jupyter execute
   nb.ipynb``; among several notebooks there, the first whose code holds the
   cell now running.

A runner driven from Python (``nbclient.NotebookClient``,
``papermill.execute_notebook``) leaves no trace of the path in the kernel;
there the caller passes it (`LINEAGE_NOTEBOOK_PATH` in the environment the
kernel inherits, or ``ln.track(path=...)``).

Nothing here imports IPython, nbformat or nbconvert: the kernel's shell is
taken from an IPython already imported, notebooks are read as JSON.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

from lineage.errors import ValidationError

#: The first line of the cell papermill injects with the parameters it was given.
PAPERMILL_INJECTED = "# Parameters"


#: The path given to ``ln.track(path=...)`` in this kernel, for the flows and
#: steps defined in its cells.
_given: Path | None = None


def ipython_shell() -> Any:
    """The IPython shell of this process, if IPython is already imported, else None."""
    module = sys.modules.get("IPython")  # never import IPython ourselves
    get_ipython = getattr(module, "get_ipython", None) if module else None
    return get_ipython() if get_ipython else None


def find_notebook(explicit: str | os.PathLike[str] | None = None) -> tuple[Path | None, str]:
    """Find the path of the running notebook (order in the module docstring).

    Args:
        explicit: A path the user gave (``ln.track(path=...)``).

    Returns:
        ``(path, how)``: the absolute path and where it was found
        (``"track(path=...)"``, ``"LINEAGE_NOTEBOOK_PATH"``,
        ``"__vsc_ipynb_file__"``, ``"JPY_SESSION_NAME"``, ``"runner command
        line"``), or ``(None, "")``.
    """
    global _given
    if explicit is not None:
        _given = Path(os.path.abspath(explicit))
    if _given is not None:
        return _given, "track(path=...)"
    value = os.environ.get("LINEAGE_NOTEBOOK_PATH")
    if value:
        return Path(os.path.abspath(value)), "LINEAGE_NOTEBOOK_PATH"
    shell = ipython_shell()
    user_ns = getattr(shell, "user_ns", None) or {}
    value = user_ns.get("__vsc_ipynb_file__")
    if isinstance(value, str) and value:
        return Path(os.path.abspath(value)), "__vsc_ipynb_file__"
    value = os.environ.get("JPY_SESSION_NAME")
    if value:
        return _session_path(value), "JPY_SESSION_NAME"
    path = _from_runner_command_line(_running_cell(shell))
    if path is not None:
        return path, "runner command line"
    return None, ""


def _session_path(value: str) -> Path:
    path = Path(os.path.abspath(value))
    if not path.exists() and not os.path.isabs(value):
        # an API path relative to the server's root: the kernel runs in the
        # notebook's folder
        by_name = Path(os.path.abspath(Path(value).name))
        if by_name.exists():
            return by_name
    return path


def _running_cell(shell: Any) -> str | None:
    history = (getattr(shell, "user_ns", None) or {}).get("In")
    if isinstance(history, list) and history and isinstance(history[-1], str):
        return history[-1]
    return None


def _from_runner_command_line(cell: str | None) -> Path | None:
    """The notebook named on the command line of the process that started the kernel."""
    try:
        import psutil

        pid = int(os.environ.get("JPY_PARENT_PID") or os.getppid())
        parent = psutil.Process(pid)
        args, cwd = parent.cmdline(), parent.cwd()
    except Exception:  # noqa: BLE001 - gone, not ours, or no permission: unknown
        return None
    candidates = []
    for arg in args[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if value.endswith(".ipynb"):
            path = Path(os.path.abspath(os.path.join(cwd, value)))
            if path.is_file() and path not in candidates:
                candidates.append(path)
    if len(candidates) > 1 and cell and cell.strip():
        wanted = cell.strip()
        for path in candidates:
            try:
                if any(wanted == c.strip() for c in code_cells(read_notebook(path))):
                    return path
            except ValidationError:
                continue
    return candidates[0] if candidates else None


def read_notebook(path: Path) -> dict[str, Any]:
    """Read an ``.ipynb`` file as a dict (nbformat 3 worksheets flattened into ``cells``).

    Raises:
        ValidationError: The file is not a notebook.
        OSError: The file cannot be read.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValidationError(f"{path} is not a Jupyter notebook (invalid JSON: {e}).") from e
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", nb.get("worksheets", [])), list):
        raise ValidationError(f"{path} is not a Jupyter notebook (no top-level object with cells).")
    if "cells" not in nb:
        nb["cells"] = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    return nb


def cell_text(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat stores lists of lines, or a string)."""
    src = cell.get("source", cell.get("input", ""))
    return "".join(src) if isinstance(src, list) else str(src)


def code_cells(nb: dict[str, Any]) -> list[str]:
    """The sources of the code cells of a notebook, in order."""
    return [cell_text(c) for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def clean_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """The notebook without what running it changes: outputs, counts, run metadata.

    Kept: every cell (code, markdown, raw) with its id, source, tags and
    attachments, and the kernelspec; so the text (and its hash) changes when
    the notebook is edited, never when it is re-run.
    """
    cells = []
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type", "code")
        clean: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": cell_text(cell)}
        if isinstance(cell.get("id"), str):
            clean["id"] = cell["id"]
        tags = (cell.get("metadata") or {}).get("tags")
        if tags:
            clean["metadata"]["tags"] = list(tags)
        if kind == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        elif cell.get("attachments"):
            clean["attachments"] = cell["attachments"]
        cells.append(clean)
    metadata = {}
    kernelspec = (nb.get("metadata") or {}).get("kernelspec")
    if isinstance(kernelspec, dict):
        metadata["kernelspec"] = kernelspec
    minor = nb.get("nbformat_minor", 5) if nb.get("nbformat") == 4 else 5
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": minor}


def dumps(nb: dict[str, Any]) -> str:
    """A notebook as ``.ipynb`` text, written the way Jupyter writes it (stable order)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebook_transform_source(path: Path) -> str:
    """The transform source of a notebook file: the cleaned ``.ipynb`` text.

    Raises:
        ValidationError: The file is not a notebook.
        OSError: The file cannot be read.
    """
    return dumps(clean_notebook(read_notebook(path)))


def is_ipynb_text(text: str | None) -> bool:
    """Whether a stored transform source is an ``.ipynb`` document (not joined code)."""
    if not text or not text.lstrip().startswith("{"):
        return False
    try:
        nb = json.loads(text)
    except ValueError:
        return False
    return isinstance(nb, dict) and isinstance(nb.get("cells"), list) and "nbformat" in nb


def history_notebook(shell: Any) -> dict[str, Any]:
    """A notebook made of the cells this kernel executed (when the file is unknown)."""
    history = (getattr(shell, "user_ns", None) or {}).get("In") or []
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": text} for text in history[1:] if isinstance(text, str) and text.strip()]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def assigned_names(code: str) -> list[str]:
    """Names bound at top level by assignments in `code` (a parameters cell)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets: list[Any] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    return names


def parameter_names(nb: dict[str, Any] | None, shell: Any) -> list[str]:
    """Names of the notebook's parameters, papermill's convention.

    The names assigned in the cells tagged ``parameters`` of the notebook
    file, then those of the cell papermill injected (it starts with
    ``# Parameters``) among the cells this kernel executed.
    """
    names: list[str] = []
    for cell in (nb or {}).get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in ((cell.get("metadata") or {}).get("tags") or ()):
            names += [n for n in assigned_names(cell_text(cell)) if n not in names]
    history = (getattr(shell, "user_ns", None) or {}).get("In") or []
    for text in history:
        if isinstance(text, str) and text.startswith(PAPERMILL_INJECTED):
            names += [n for n in assigned_names(text) if n not in names]
    return names


def notebook_params(nb: dict[str, Any] | None, shell: Any) -> tuple[dict[str, Any], list[str]]:
    """The values of the notebook's parameters in the kernel's namespace.

    Returns:
        ``(params, missing)``: the parameters defined so far, and the names of
        the parameters cell not defined yet (``ln.track()`` ran before it).
    """
    user_ns = getattr(shell, "user_ns", None) or {}
    params, missing = {}, []
    for name in parameter_names(nb, shell):
        if name in user_ns:
            params[name] = user_ns[name]
        else:
            missing.append(name)
    return params, missing
