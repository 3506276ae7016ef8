"""Snakemake's metadata records (the fallback for params) as the pinned Snakemake writes them."""

from __future__ import annotations

import time

import lineage as ln

from snakemake_helpers import runs_by_name
from snakemake_logger_plugin_lineage import metadata


def test_params_and_completion_from_the_metadata_of_a_real_run(snakemake):
    workdir = snakemake.copy("three_rules")
    started = time.time()
    snakemake(lineage=False)
    assert metadata.record_path(str(workdir), "data/a.txt").startswith(str(workdir / ".snakemake"))
    # Snakemake keeps reprs of the non-derived params, sorted, without names
    assert metadata.job_params(str(workdir), ["data/bb.txt"]) == ["'raw'", "4"]
    assert metadata.finished_after(str(workdir), ["counts/a.tsv"], started)
    assert not metadata.finished_after(str(workdir), ["counts/a.tsv"], time.time() + 60)
    assert not metadata.finished_after(str(workdir), ["nothing/here.txt"], started)
    assert metadata.job_params(str(workdir), ["nothing/here.txt"]) is None


def test_jobs_finish_at_the_end_when_quiet_progress_drops_job_finished(snakemake):
    snakemake.copy("three_rules")
    done = snakemake("--quiet", "progress")
    assert "could not record" not in done.stderr
    workflow = ln.Run.get(external_source="snakemake", initiated_by_run_id=None)
    assert workflow.status == "completed"
    jobs = runs_by_name(workflow)
    assert len(jobs) == 5 and {r.status for r in jobs.values()} == {"completed"}
    assert ln.Artifact.get(key="summary.tsv").run == jobs["merge"]
