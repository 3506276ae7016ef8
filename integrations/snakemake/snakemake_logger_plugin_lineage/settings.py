"""Settings of the plugin, given as ``--logger-lineage-<field>`` on Snakemake's command line.

No ``from __future__ import annotations`` here: Snakemake builds its
command-line options from the field types, which must be real types.
"""

from dataclasses import dataclass, field
from typing import Optional

from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    """What ``--logger-lineage-instance`` and ``--logger-lineage-project`` set.

    Attributes:
        instance: The lineage instance to record in (a folder, a slug or a
            PostgreSQL URL); default: the current instance as lineage finds
            it (``LINEAGE_INSTANCE``, the nearest ``.lineage/``, the user default).
        project: A project to link the workflow run, its jobs and its files to.
    """

    instance: Optional[str] = field(
        default=None,
        metadata={"help": "lineage instance to record in (default: the current one)",
                  "env_var": False, "required": False})
    project: Optional[str] = field(
        default=None,
        metadata={"help": "lineage project of the workflow run and its jobs",
                  "env_var": False, "required": False})
