"""Jobs and assets at module scope, so that Dagster can reconstruct them in other processes.

`reconstructable(...)` needs them importable by name: the conftest puts this
folder on ``PYTHONPATH`` for the step processes of the multiprocess executor.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import lineage_dagster

#: A file whose existence makes `check` pass (the first run fails, the re-execution passes).
MARKER_ENV = "LINEAGE_DAGSTER_TEST_MARKER"


@dg.op
def fetch() -> list[int]:
    return [4, 5, 6]


@dg.op
def check(values: list[int]) -> int:
    if not Path(os.environ[MARKER_ENV]).exists():
        raise RuntimeError("the marker file is missing")
    return sum(values)


@dg.job(resource_defs={"io_manager": dg.fs_io_manager})
def rerun_job():
    check(fetch())


rerun_job = lineage_dagster.instrument(rerun_job)  # noqa: F811 - the module's job is the recorded one


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def mp_raw(context) -> list[int]:
    if context.retry_number == 0:
        raise RuntimeError("mp_raw fails once")
    return [9, 7, 8]


@dg.asset
def mp_sorted(mp_raw: list[int]) -> list[int]:
    return sorted(mp_raw)


defs = lineage_dagster.instrument(dg.Definitions(
    assets=[mp_raw, mp_sorted],
    jobs=[dg.define_asset_job("mp_job", selection=[mp_raw, mp_sorted])]))


def mp_job() -> dg.JobDefinition:
    """The asset job, resolved with the instrumented resources (reconstructable by name)."""
    return defs.resolve_job_def("mp_job")
