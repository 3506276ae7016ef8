"""Tracking never breaks the user's program, whatever the arguments (issue 10, items 6 and 7).

Values the database cannot hold (NUL, lone surrogates from undecodable
bytes), hostile objects and huge values are passed to real flows on both
backends, and real scripts are started with non-UTF-8 names and arguments.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import lineage as ln


@ln.flow()
def echo(value: Any) -> str:
    return "body ran"


def _call(value: Any) -> ln.Run:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert echo(value) == "body ran"
    run = ln.Run.filter(entrypoint="echo").order_by("-id").first()
    assert run is not None and run.status == "completed"
    return run


UNDECODABLE = os.fsdecode(b"data\xff.csv")  # what Python makes of a non-UTF-8 file name


@pytest.mark.parametrize("text", ["nul\x00inside", UNDECODABLE, "lone \ud800 surrogate"])
def test_text_the_database_cannot_hold_is_stored_as_its_repr(instance, text: str) -> None:
    run = _call(text)

    stored = run.params["value"]
    assert stored == {"__repr__": repr(text), "__type__": "builtins.str"}
    assert ast.literal_eval(stored["__repr__"]) == text  # nothing lost


def test_paths_and_keys_with_undecodable_bytes_are_escaped(instance) -> None:
    run = _call({"input": Path(UNDECODABLE), "files": {UNDECODABLE: 1, "k\x00": 2}})

    stored = run.params["value"]
    assert stored["input"] == {"__repr__": repr(Path(UNDECODABLE)),
                               "__type__": f"{type(Path()).__module__}.{type(Path()).__name__}"}
    assert stored["files"] == {"data\\xff.csv": 1, "k\\x00": 2}


def test_explicit_names_the_database_cannot_hold_are_still_refused(instance) -> None:
    with pytest.raises(ln.errors.ValidationError):
        ln.Project(name=UNDECODABLE).save()
    with pytest.raises(ln.errors.ValidationError):
        ln.flow(project="p\x00")(lambda: None)()
    for key in (UNDECODABLE, "k\x00.py"):  # an explicit transform key, as the user wrote it
        with pytest.raises(ln.errors.ValidationError, match="Transform.key"):
            ln.flow(key=key)(lambda: None)()
        with pytest.raises(ln.errors.ValidationError, match="Transform.key"):
            ln.track(key=key)
    assert ln.Run.filter().count() == 0


def test_script_with_non_utf8_name_and_arguments_is_tracked(run_script, tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    script = folder / os.fsdecode(b"caf\xe9.py")  # latin-1 name: not UTF-8
    script.write_text(
        "import sys\n"
        "import lineage as ln\n"
        "ln.track(params={'input': sys.argv[1]})\n"
        "@ln.flow()\n"
        "def main(path):\n"
        "    print('user code ran')\n"
        "main(sys.argv[1])\n"
        "ln.finish()\n"
    )
    result = subprocess.run([sys.executable, os.fsencode(script), b"data\xff.csv", b"--n=\xfe"],
                            cwd=run_script.cwd, env=run_script.environ(), capture_output=True,
                            timeout=120)

    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"user code ran" in result.stdout
    tracked = ln.Run.filter(entrypoint=None).one()
    assert tracked.transform.key == "caf\\xe9.py"
    assert tracked.cli_args == [str(script).replace(script.name, "caf\\xe9.py"),
                                "data\\xff.csv", "--n=\\xfe"]
    assert tracked.params == {"input": {"__repr__": repr(UNDECODABLE), "__type__": "builtins.str"}}
    flow_run = ln.Run.filter(entrypoint="main").one()
    assert flow_run.status == "completed" and flow_run.initiated_by_run == tracked


# --- any object (item 7) ---------------------------------------------------------------
class GetattrRaises:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name} here")


class GetattributeRaises:
    def __getattribute__(self, name: str) -> Any:
        raise KeyError(name)


class ReprAndGetattrRaise(GetattrRaises):
    def __repr__(self) -> str:
        raise ValueError("no repr either")


class LenRaises(list):
    def __len__(self) -> int:
        raise OSError("gone")


class ItemsRaise(dict):
    def items(self) -> Any:
        raise RuntimeError("lazy mapping failed")


class RaisingMeta(type):
    def __getattr__(cls, name: str) -> Any:
        raise RuntimeError(name)


class MetaRaises(metaclass=RaisingMeta):
    pass


def _recursive_dict() -> dict[str, Any]:
    d: dict[str, Any] = {"a": 1}
    d["self"] = d
    return d


def _deep_list(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


HOSTILE = {  # made per test, so the huge ones do not stay in memory
    "getattr raises": GetattrRaises,
    "getattribute raises": GetattributeRaises,
    "repr and getattr raise": ReprAndGetattrRaise,
    "len raises": lambda: LenRaises([1, 2]),
    "items raise": lambda: ItemsRaise(a=1),
    "metaclass getattr raises": MetaRaises,
    "recursive dict": _recursive_dict,
    "nested 10000 deep": lambda: _deep_list(10_000),
    "300000 items": lambda: list(range(300_000)),
    "three million characters": lambda: "x" * 3_000_000,
    "five megabytes": lambda: b"\x00" * 5_000_000,
    "an int of 20000 digits": lambda: 10**20_000,
    "a set of mixed types": lambda: {1, "a", (2, 3), None},
}


def test_capture_survives_any_object(instance) -> None:
    values = {name: make() for name, make in HOSTILE.items()}
    run = _call({**values, "after": 1})

    stored = run.params["value"]
    assert set(stored) == {*HOSTILE, "after"} and stored["after"] == 1  # nothing dropped
    assert len(json.dumps(stored)) < 100_000  # bounded, whatever the size of the values
    for name, value in values.items():
        if isinstance(stored[name], dict) and "__repr__" in stored[name]:
            assert stored[name]["__type__"].endswith(type(value).__qualname__), name
