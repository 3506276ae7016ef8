"""lineage for Snakemake: ``snakemake --logger lineage``.

Snakemake finds this module by its name (``snakemake_logger_plugin_<name>``)
and takes `LogHandler` and `LogHandlerSettings` from it. Every workflow run
becomes a Run of the Snakefile's Transform and every job attempt a Run of
its own, linked to it, with the rule, wildcards, threads, resources, shell
command, params, the files it read and wrote and its status (see
docs/snakemake.md). A dry run (``-n``) records nothing.

Importing this package imports nothing of lineage's store; the database is
reached when the first workflow event arrives.
"""

from snakemake_logger_plugin_lineage.handler import LogHandler
from snakemake_logger_plugin_lineage.settings import LogHandlerSettings

__version__ = "0.1.0"

__all__ = ["LogHandler", "LogHandlerSettings"]
