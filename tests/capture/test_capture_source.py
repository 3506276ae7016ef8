"""Tests for lineage.capture.source."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from lineage.capture.source import (
    current_script_path,
    detect_kind,
    function_source,
    notebook_path,
    notebook_source,
    read_source,
    source_hash,
    transform_key,
    transform_key_for_function,
)
from lineage.errors import ValidationError

HERE = Path(__file__).resolve()


# --- transform_key --------------------------------------------------------


def test_key_relative_to_dev_dir(tmp_path: Path) -> None:
    script = tmp_path / "proj" / "pipelines" / "train.py"
    assert transform_key(script, tmp_path / "proj") == "pipelines/train.py"


def test_key_outside_dev_dir_or_without_is_file_name(tmp_path: Path) -> None:
    script = tmp_path / "elsewhere" / "train.py"
    assert transform_key(script, tmp_path / "proj") == "train.py"
    assert transform_key(script, None) == "train.py"


def test_key_through_symlinked_dev_dir(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "a.py").write_text("")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert transform_key(real / "sub" / "a.py", link) == "sub/a.py"


@pytest.mark.parametrize("packages_dir", ["site-packages", "dist-packages"])
def test_key_of_installed_package(tmp_path: Path, packages_dir: str) -> None:
    # even with the virtualenv inside the project directory
    site = tmp_path / "proj" / ".venv" / "lib" / "python3.11" / packages_dir
    assert transform_key(site / "mypkg" / "sub" / "mod.py", tmp_path / "proj") == (
        "pypackages/mypkg/sub/mod.py"
    )
    assert transform_key(site / "six.py", None) == "pypackages/six.py"


def test_key_of_function_in_importable_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    (src / "capkeypkg" / "sub").mkdir(parents=True)
    (src / "capkeypkg" / "__init__.py").write_text("")
    (src / "capkeypkg" / "sub" / "__init__.py").write_text("")
    (src / "capkeypkg" / "sub" / "mod.py").write_text("def step(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(src))
    from capkeypkg.sub.mod import step  # type: ignore[import-not-found]

    try:
        # outside dev_dir (an editable install elsewhere): keyed by package
        assert transform_key_for_function(step, tmp_path / "proj") == (
            "pypackages/capkeypkg/sub/mod.py"
        )
        # inside dev_dir too: the same key from a checkout as from an installed wheel
        assert transform_key_for_function(step, tmp_path) == "pypackages/capkeypkg/sub/mod.py"
        assert transform_key_for_function(step, src) == "pypackages/capkeypkg/sub/mod.py"
    finally:
        for name in [m for m in sys.modules if m.startswith("capkeypkg")]:
            del sys.modules[name]


def _helper(x: int) -> int:
    return x + 1


def test_key_of_function_is_its_module_file() -> None:
    assert transform_key_for_function(_helper, HERE.parent.parent) == (
        "capture/test_capture_source.py"
    )

    @functools.wraps(_helper)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _helper(*args, **kwargs)

    assert transform_key_for_function(wrapper, None) == "test_capture_source.py"


def test_key_of_function_without_file() -> None:
    module = types.ModuleType("scratch")
    exec("def f():\n    return 1\n", module.__dict__)  # noqa: S102
    assert transform_key_for_function(module.f, None) == "scratch.py"


def test_key_of_function_under_python_c() -> None:
    code = (
        "from lineage.capture.source import transform_key_for_function, function_source\n"
        "def f():\n    return 1\n"
        "print(transform_key_for_function(f, None)); print(function_source(f)[:12])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "__main__.py"
    assert out[1].startswith("<function f")  # repr: no source available


# --- source text ----------------------------------------------------------


def test_read_source_honours_coding_cookie(tmp_path: Path) -> None:
    script = tmp_path / "latin.py"
    script.write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"))
    assert "café" in read_source(script)
    plain = tmp_path / "plain.py"
    plain.write_bytes(b"x = '\xff'\n")  # invalid utf-8, no cookie
    assert read_source(plain).startswith("x = '")


def _write_notebook(path: Path, cells: list[dict[str, Any]]) -> Path:
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))
    return path


def _code(source: Any, outputs: list[Any] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "outputs": outputs or [], "metadata": {},
            "execution_count": None}


def test_notebook_source_joins_code_cells_only(tmp_path: Path) -> None:
    nb = _write_notebook(
        tmp_path / "a.ipynb",
        [
            {"cell_type": "markdown", "source": ["# Title\n"], "metadata": {}},
            _code(["import math\n", "x = 1\n"]),
            _code("print(x)"),
            {"cell_type": "raw", "source": "raw", "metadata": {}},
        ],
    )
    assert notebook_source(nb) == "import math\nx = 1\n\nprint(x)\n"


def test_notebook_hash_ignores_outputs_but_not_code(tmp_path: Path) -> None:
    out = [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}]
    a = notebook_source(_write_notebook(tmp_path / "a.ipynb", [_code("print(1)")]))
    b = notebook_source(_write_notebook(tmp_path / "b.ipynb", [_code("print(1)", out)]))
    c = notebook_source(_write_notebook(tmp_path / "c.ipynb", [_code("print(2)")]))
    assert source_hash(a) == source_hash(b) != source_hash(c)


def test_notebook_source_rejects_non_notebook(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValidationError, match="not a Jupyter notebook"):
        notebook_source(bad)


def test_function_source_dedented_and_unwrapped() -> None:
    def inner(a: int) -> int:
        return a * 2

    assert function_source(inner).startswith("def inner(a: int) -> int:\n    return a * 2")

    @functools.wraps(inner)
    def wrapped(*args: Any) -> Any:
        return inner(*args)

    assert function_source(wrapped).startswith("def inner(")
    assert function_source(len) == repr(len)


def test_source_hash() -> None:
    assert source_hash("a\nb\n") == hashlib.sha256(b"a\nb\n").hexdigest()
    assert source_hash("a\r\nb\r\n") == source_hash("a\rb\r") == source_hash("a\nb\n")
    assert source_hash("a\nb\n") != source_hash("a\nc\n")


# --- kind and current path ------------------------------------------------


class _Shell:
    def __init__(self, kernel: object | None, user_ns: dict[str, Any] | None = None) -> None:
        self.kernel = kernel
        self.user_ns = user_ns or {}


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: _Shell | None) -> None:
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_script_kind_without_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert detect_kind() == "script"
    assert "IPython" not in sys.modules  # never imported by us


def test_terminal_ipython_counts_as_script(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ipython(monkeypatch, _Shell(kernel=None))
    assert detect_kind() == "script"
    _fake_ipython(monkeypatch, None)
    assert detect_kind() == "script"


def test_notebook_path_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LINEAGE_NOTEBOOK_PATH", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    _fake_ipython(monkeypatch, _Shell(kernel=object()))
    assert detect_kind() == "notebook"
    assert current_script_path() is None
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "jpy.ipynb"))
    assert current_script_path() == tmp_path / "jpy.ipynb"
    _fake_ipython(monkeypatch, _Shell(object(), {"__vsc_ipynb_file__": str(tmp_path / "v.ipynb")}))
    assert current_script_path() == tmp_path / "v.ipynb"
    monkeypatch.setenv("LINEAGE_NOTEBOOK_PATH", str(tmp_path / "explicit.ipynb"))
    assert notebook_path() == tmp_path / "explicit.ipynb"


def test_function_in_notebook_cell_gets_notebook_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_ipython(monkeypatch, _Shell(kernel=object()))
    monkeypatch.setenv("LINEAGE_NOTEBOOK_PATH", str(tmp_path / "nbs" / "explore.ipynb"))
    cell_file = tmp_path / "ipykernel_123" / "456.py"
    cell_file.parent.mkdir()
    cell_file.write_text("def f():\n    return 1\n")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(cell_file.read_text(), str(cell_file), "exec"), namespace)  # noqa: S102
    assert transform_key_for_function(namespace["f"], tmp_path) == "nbs/explore.ipynb"


def test_current_script_path_of_real_processes(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "from lineage.capture.source import current_script_path, detect_kind\n"
        "print(current_script_path(), detect_kind())\n"
    )
    run = functools.partial(subprocess.run, capture_output=True, text=True, check=True)
    assert run([sys.executable, str(script)]).stdout.strip() == f"{script} script"
    assert run([sys.executable, "-c", script.read_text()]).stdout.strip() == "None script"
