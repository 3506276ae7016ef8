"""`instrument`: the one change that makes Dagster definitions record lineage."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

import dagster as dg

from lineage_dagster import internals
from lineage_dagster.io_managers import wrap_resources
from lineage_dagster.sources import Origin

T = TypeVar("T", dg.Definitions, dg.JobDefinition)


@overload
def instrument(target: T) -> T: ...
@overload
def instrument(target: Mapping[str, Any]) -> dict[str, Any]: ...


def instrument(target: Any) -> Any:
    """Record the runs, steps, materializations and loads of Dagster definitions.

    Wraps every IO manager (and Dagster's default one) so that each asset
    output becomes a new version of the artifact ``dagster/<asset key>`` and
    each load an input of the step that loaded it, and makes the first IO
    manager of each run subscribe lineage to the run's events (its steps,
    retries and failures). Nothing else changes: same resource keys, same
    config, same values stored and loaded::

        defs = lineage_dagster.instrument(dg.Definitions(assets=[raw, clean]))
        result = dg.materialize([raw, clean], resources=lineage_dagster.instrument({}))
        my_job = lineage_dagster.instrument(my_job)           # a @job with its own resources

    Deployments and the multiprocess executor also need the event-log
    storage of `lineage_dagster.storage` in ``dagster.yaml`` (the run's own
    start and end are events of a process where no IO manager runs).

    Args:
        target: A `dagster.Definitions`, a `dagster.JobDefinition`, or a
            resources mapping (as passed to ``materialize(resources=...)``).

    Returns:
        A new object of the same kind; `target` itself is not changed.

    Raises:
        TypeError: `target` is none of these.
    """
    caller = _caller_file()
    if isinstance(target, dg.Definitions):
        return _instrument_definitions(target, Origin(caller, _definitions_ops(target)))
    if isinstance(target, dg.JobDefinition):
        origin = Origin(caller, _ops_of(target.graph))
        return target.with_top_level_resources(
            wrap_resources(dict(target.resource_defs), wrap_default=True, origin=origin))
    if isinstance(target, Mapping):
        return wrap_resources(dict(target), wrap_default=True, origin=Origin(caller, {}))
    raise TypeError(
        f"lineage_dagster.instrument() takes a dagster.Definitions, a dagster.JobDefinition or a "
        f"mapping of resources, got {type(target).__name__}; wrap your Definitions: "
        "defs = lineage_dagster.instrument(dg.Definitions(...)).")


def _instrument_definitions(defs: dg.Definitions, origin: Origin) -> dg.Definitions:
    jobs = []
    for job in defs.jobs or []:
        if isinstance(job, dg.JobDefinition) and internals.has_own_resources(job):
            job = job.with_top_level_resources(
                wrap_resources(dict(job.resource_defs), wrap_default=True, origin=origin))
        jobs.append(job)
    return dg.Definitions(
        assets=defs.assets, schedules=defs.schedules, sensors=defs.sensors, jobs=jobs,
        resources=wrap_resources(dict(defs.resources or {}), wrap_default=True, origin=origin),
        executor=defs.executor, loggers=defs.loggers, asset_checks=defs.asset_checks,
        metadata=defs.metadata, component_tree=defs.component_tree)


def _definitions_ops(defs: dg.Definitions) -> dict[str, Callable[..., Any]]:
    functions: dict[str, Callable[..., Any]] = {}
    for asset in defs.assets or []:
        node = getattr(asset, "node_def", None) if isinstance(asset, dg.AssetsDefinition) else None
        if node is not None:
            functions.update(_ops_of(node))
    for job in defs.jobs or []:
        if isinstance(job, dg.JobDefinition):
            functions.update(_ops_of(job.graph))
    return functions


def _ops_of(node: Any) -> dict[str, Callable[..., Any]]:
    functions = {}
    for op_def in internals.op_definitions(node):
        fn = internals.op_function(op_def)
        if fn is not None:
            functions[op_def.name] = fn
    return functions


def _caller_file() -> str | None:
    """The file that called `instrument` (the code location's definitions file)."""
    frame = sys._getframe(2)  # noqa: SLF001 - instrument() -> _caller_file(): the user's frame
    name = frame.f_code.co_filename
    return name if Path(name).is_file() else None
