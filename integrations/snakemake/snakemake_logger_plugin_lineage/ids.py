"""The ids that tie Snakemake's workflow runs and jobs to their lineage runs.

==================  ==================================  =====================================
Snakemake object    ``external_id``                     ``attempt``
==================  ==================================  =====================================
workflow run        Snakemake's ``workflow_id`` (UUID)  1
job                 ``<workflow_id>/<jobid>``           1, and one more per ``--retries`` restart
rerun of a job      the id of the incomplete run        one more than that run's
==================  ==================================  =====================================

Snakemake numbers jobs per invocation and a restart keeps the job id, so
attempts of one job share one ``external_id``. A job that a killed
invocation left incomplete and a later one reruns continues the attempts
of the earlier run (see `snakemake_logger_plugin_lineage.recorder`).
"""

from __future__ import annotations

#: ``run.external_source`` of every run this plugin records.
SOURCE = "snakemake"
#: Transform kind of a Snakefile.
KIND = "snakemake"


def job_external_id(workflow_id: str, jobid: int) -> str:
    """``external_id`` of a job of one workflow run."""
    return f"{workflow_id}/{jobid}"
