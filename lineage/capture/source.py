"""Transform keys and source code of scripts, notebooks and functions.

Key rules (`transform_key`), first match wins:

1. A file under a ``site-packages`` or ``dist-packages`` directory:
   ``pypackages/<path below that directory>``, e.g.
   ``pypackages/mypkg/sub/mod.py`` (a top-level module: ``pypackages/six.py``).
2. A file of an importable package (``package=`` given: the module's
   ``__package__``, for a function's module or ``python -m pkg.mod``):
   ``pypackages/<top-level package>/<path inside it>``, inside ``dev_dir``
   too, so a step keeps its transform whether it runs from a checkout, an
   editable install or a wheel.
3. A file inside ``dev_dir``: its path relative to ``dev_dir``, posix separators.
4. Otherwise the file name.

A function without a source file (``python -c``, a REPL) gets the key
``<module name>.py``, i.e. ``__main__.py``; a function defined in a notebook
cell gets the notebook's key when the notebook path is known.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import textwrap
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from lineage.capture.escape import escape_text
from lineage.errors import ValidationError

_PACKAGE_DIRS = ("site-packages", "dist-packages")


def transform_key(path: Path, dev_dir: Path | None, *, package: str | None = None) -> str:
    """Return the stable key of a source file (rules in the module docstring).

    Args:
        path: The script, notebook or module file.
        dev_dir: The project directory, or None.
        package: ``__package__`` of the module defined by ``path``, if known.

    Returns:
        A relative posix path such as ``"pipelines/train.py"``; undecodable
        bytes of a file name are escaped (``"data\\xff.py"``), so any
        script can be tracked.
    """
    return escape_text(_transform_key(path, dev_dir, package))


def _transform_key(path: Path, dev_dir: Path | None, package: str | None) -> str:
    path = Path(os.path.abspath(path))
    parts = path.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in _PACKAGE_DIRS and i + 1 < len(parts):
            return "pypackages/" + "/".join(parts[i + 1 :])
    if package:
        top = package.split(".")[0]
        module = sys.modules.get(top)
        top_file = getattr(module, "__file__", None)
        if top_file:
            root = Path(os.path.abspath(top_file)).parent
            if path.is_relative_to(root):
                return f"pypackages/{top}/{path.relative_to(root).as_posix()}"
    if dev_dir is not None:
        pairs = ((path, Path(os.path.abspath(dev_dir))), (path.resolve(), Path(dev_dir).resolve()))
        for candidate, root in pairs:  # the resolved pair covers symlinked dirs
            if candidate != root and candidate.is_relative_to(root):
                return candidate.relative_to(root).as_posix()
    return path.name


def transform_key_for_function(func: Callable[..., Any], dev_dir: Path | None) -> str:
    """Return the key of the transform a function belongs to: its module's file.

    Args:
        func: A (possibly decorated) function.
        dev_dir: The project directory, or None.

    Returns:
        The `transform_key` of the function's source file, ``<module>.py``
        when it has none (``"__main__.py"`` under ``python -c``), or the
        notebook's key for a function defined in a notebook cell.
    """
    func = inspect.unwrap(func)
    module_name = getattr(func, "__module__", None) or "__main__"
    try:
        file = inspect.getsourcefile(func)
    except TypeError:
        file = None
    if file and _is_notebook_cell_file(file):
        notebook = notebook_path()
        return transform_key(notebook, dev_dir) if notebook else f"{module_name}.py"
    if not file or not os.path.exists(file):
        return escape_text(f"{module_name}.py")
    module = sys.modules.get(module_name)
    package = getattr(module, "__package__", None)
    return transform_key(Path(file), dev_dir, package=package)


def _is_notebook_cell_file(file: str) -> bool:
    # ipykernel compiles each cell to a file such as /tmp/ipykernel_1234/5678.py;
    # older IPython names cells <ipython-input-...>.
    return "ipykernel_" in file or file.startswith("<ipython-input")


def read_source(path: Path) -> str:
    """Read a script's source, honouring a PEP 263 coding cookie.

    Args:
        path: The script.

    Returns:
        The text; undecodable bytes are replaced rather than failing.
    """
    try:
        with tokenize.open(path) as f:
            return f.read()
    except (SyntaxError, UnicodeDecodeError):
        return Path(path).read_text(encoding="utf-8", errors="replace")


def notebook_source(path: Path) -> str:
    """Join the code cells of an ``.ipynb`` file, without outputs.

    Cells are separated by a blank line, so the source (and its hash) changes
    only when code changes, not when the notebook is re-run.

    Args:
        path: The notebook (nbformat 4; nbformat 3 worksheets are read too).

    Returns:
        The code of all code cells.

    Raises:
        ValidationError: The file is not a notebook.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValidationError(f"{path} is not a Jupyter notebook (invalid JSON: {e}).") from e
    if not isinstance(nb, dict):
        raise ValidationError(f"{path} is not a Jupyter notebook (no top-level object).")
    cells = nb.get("cells")
    if cells is None:
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    chunks = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        text = "".join(src) if isinstance(src, list) else str(src)
        chunks.append(text.rstrip("\n"))
    return "\n\n".join(chunks) + ("\n" if chunks else "")


def function_source(func: Callable[..., Any]) -> str:
    """Return a function's source, dedented (methods and nested functions too).

    Args:
        func: A (possibly decorated) function.

    Returns:
        Its source, or its ``repr`` when the source is unavailable
        (builtins, ``python -c``, a REPL).
    """
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return repr(func)


def source_hash(text: str) -> str:
    """Hash source text: sha256 hex of its utf-8 bytes, line endings normalized to ``\\n``.

    Args:
        text: The source.

    Returns:
        64 hex digits.
    """
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def _ipython_shell() -> Any:
    module = sys.modules.get("IPython")  # never import IPython ourselves
    get_ipython = getattr(module, "get_ipython", None) if module else None
    return get_ipython() if get_ipython else None


def detect_kind() -> Literal["notebook", "script"]:
    """Tell whether this process is a Jupyter kernel or a script.

    Cheap: looks only at an IPython already imported, never imports it.

    Returns:
        ``"notebook"`` inside a Jupyter (ipykernel) kernel, else ``"script"``
        (a terminal IPython session counts as a script).
    """
    shell = _ipython_shell()
    return "notebook" if getattr(shell, "kernel", None) is not None else "script"


def notebook_path() -> Path | None:
    """Find the path of the running notebook (see `lineage.capture.notebook.find_notebook`).

    Returns:
        The path, or None when unknown.
    """
    from lineage.capture.notebook import find_notebook

    return find_notebook()[0]


def current_script_path() -> Path | None:
    """Return the file of the running script or notebook.

    Returns:
        For a notebook, `notebook_path`; for a script, ``__main__.__file__``
        (also right for ``python -m``), else ``sys.argv[0]`` if it is a file;
        None for ``python -c``, a REPL or an unknown notebook.
    """
    if detect_kind() == "notebook":
        return notebook_path()
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if file:
        return Path(os.path.abspath(file))
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and argv0 not in ("-c", "-m") and os.path.isfile(argv0):
        return Path(os.path.abspath(argv0))
    return None
