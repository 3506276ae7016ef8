"""Which Transform a Dagster run and each of its steps belong to.

A Dagster run is a Run of its code location's file: the file Dagster
loaded the job from (a code location, ``reconstructable(job)``), else the
file whose `lineage_dagster.instrument` call made the run's IO managers,
else a Transform named ``dagster/<job name>`` without source. A step is a
Run of the file that defines its op or asset function (known from the
instrumented definitions), else of the run's file; its entrypoint is the
function's qualified name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lineage import lifecycle

from lineage_dagster import internals

KIND = "dagster"


class Origin(NamedTuple):
    """Where instrumented definitions come from.

    Attributes:
        file: The file that called `lineage_dagster.instrument`, if any.
        ops: The Python function of each op (and asset op), by op name.
    """

    file: str | None
    ops: Mapping[str, Callable[..., Any]]


NO_ORIGIN = Origin(None, {})


def run_source(dagster_run: Any, origin: Origin = NO_ORIGIN) -> lifecycle.Source:
    """The Transform (and git state) of a Dagster run."""
    path = internals.code_origin_file(dagster_run) or origin.file
    if path is not None and Path(path).is_file():
        return lifecycle.file_transform(path, KIND)
    transform = lifecycle.get_or_create_transform(f"dagster/{dagster_run.job_name}", None, KIND)
    return lifecycle.Source(transform, None, None)


def op_source(op_name: str, origin: Origin,
              fallback: Callable[[], lifecycle.Source]) -> tuple[lifecycle.Source, str]:
    """The Transform of an op's function and the entrypoint to record (its qualified name).

    `fallback` gives the run's Transform, for an op whose function is unknown.
    """
    fn = origin.ops.get(op_name)
    if fn is None:
        return fallback(), op_name
    return lifecycle.function_transform(fn, KIND), getattr(fn, "__qualname__", op_name)
