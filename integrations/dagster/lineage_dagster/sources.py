"""Which Transform a Dagster run and each of its steps belong to.

A Dagster run is a Run of its code location's file: the file Dagster
loaded the job from (``reconstructable(job)``, a code location), else the
file that called `lineage_dagster.instrument`, else a Transform named
``dagster/<job name>`` without source. A step is a Run of the file that
defines its op or asset function (known once `instrument` has seen the
definitions), else of the run's file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lineage import lifecycle

from lineage_dagster import internals

KIND = "dagster"

_lock = threading.Lock()
_definitions_files: list[str] = []
_op_functions: dict[str, Callable[..., Any]] = {}


def note_definitions(file: str | None, op_functions: dict[str, Callable[..., Any]]) -> None:
    """Remember where instrumented definitions come from (see the module docstring)."""
    with _lock:
        if file and file not in _definitions_files:
            _definitions_files.append(file)
        _op_functions.update(op_functions)


def run_source(dagster_run: Any) -> lifecycle.Source:
    """The Transform (and git state) of a Dagster run."""
    path = internals.code_origin_file(dagster_run)
    if path is None and _definitions_files:
        path = _definitions_files[-1]
    if path is not None and Path(path).is_file():
        return lifecycle.file_transform(path, KIND)
    transform = lifecycle.get_or_create_transform(f"dagster/{dagster_run.job_name}", None, KIND)
    return lifecycle.Source(transform, None, None)


def op_source(op_name: str, fallback: lifecycle.Source) -> tuple[lifecycle.Source, str]:
    """The Transform of an op's function and the entrypoint to record (its qualified name)."""
    fn = _op_functions.get(op_name)
    if fn is None:
        return fallback, op_name
    return lifecycle.function_transform(fn, KIND), getattr(fn, "__qualname__", op_name)
