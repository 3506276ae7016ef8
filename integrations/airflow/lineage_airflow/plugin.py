"""The Airflow plugin that installing ``lineage-airflow`` registers.

Airflow finds it through the ``airflow.plugins`` entry point: its listener
module records DAG runs and task tries, and its hook-lineage reader
switches on Airflow's hook-lineage collector (assets read and written
through hooks and ``ObjectStoragePath``), which `lineage_airflow.assets`
reads at the end of each try.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk.lineage import HookLineageReader

from lineage_airflow import listener


class LineageHookReader(HookLineageReader):
    """Reads the assets Airflow's hook-lineage collector gathered in this process."""


class LineagePlugin(AirflowPlugin):
    """Records Airflow DAG runs and task tries with lineage."""

    name = "lineage"
    listeners = [listener]
    hook_lineage_readers = [LineageHookReader]
