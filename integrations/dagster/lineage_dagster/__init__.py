"""Lineage for Dagster: runs, steps, retries, asset materializations and loads.

One change to a code location::

    import lineage_dagster

    defs = lineage_dagster.instrument(dg.Definitions(assets=[...], resources={...}))

and, for deployments and the multiprocess executor, the event-log storage
in ``dagster.yaml`` (`LineageEventLogStorage`). See ``docs/dagster.md``.
"""

from typing import Any

from lineage_dagster.instrument import instrument
from lineage_dagster.io_managers import LineageIOManager
from lineage_dagster.recorder import ARTIFACT_METADATA, SOURCE, artifact_key, step_external_id

__all__ = [
    "ARTIFACT_METADATA", "SOURCE", "LineageEventLogStorage", "LineageIOManager", "artifact_key",
    "instrument", "step_external_id",
]


def __getattr__(name: str) -> Any:
    # The storage pulls in Dagster's SQL storage modules: only for dagster.yaml users.
    if name == "LineageEventLogStorage":
        from lineage_dagster.storage import LineageEventLogStorage

        return LineageEventLogStorage
    raise AttributeError(f"module 'lineage_dagster' has no attribute {name!r}")
