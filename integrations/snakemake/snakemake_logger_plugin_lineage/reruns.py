"""Jobs an earlier workflow run left unfinished or failed, rerun now as their next attempt.

A Snakemake process that was interrupted (Ctrl-C, ``kill``, a lost node)
leaves its running jobs' outputs marked incomplete (or reports them
failed); a later ``snakemake --rerun-incomplete`` (or plain ``snakemake``
after a failure) runs those jobs again. Snakemake numbers
jobs per invocation, so the later job has another id; what identifies it
is its outputs. At the start of a workflow run, `unfinished_jobs` reads
once the job runs of earlier workflow runs of the same Snakefile in the
same working directory that are still ``started``, or ``aborted`` or
``errored``, and were not rerun yet, by their outputs. A job of this workflow run with the same
outputs continues that run's ``external_id`` with the next attempt
(`Earlier.next_attempt`), and the earlier run is marked as rerun (and
aborted, if its process died without saying so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lineage as ln
from lineage import lifecycle
from snakemake_logger_plugin_lineage import ids

#: How many unfinished earlier job runs are looked at (newest first).
LIMIT = 2_000
#: Statuses of a job run that a later workflow run may run again as its next attempt.
UNFINISHED = ("started", "aborted", "errored")
DIED = "The Snakemake process ended without reporting the end of this job (killed?)."


@dataclass
class Earlier:
    """An unfinished job run of an earlier workflow run."""

    run: Any

    def latest(self) -> Earlier | None:
        """The newest attempt of the same job, if it is still unfinished and not rerun, else None.

        An earlier attempt that failed before a retry succeeded is no job to rerun: the
        job's newest attempt decides (looked up only for a job that matches, at its start).
        """
        newest = lifecycle.find_engine_run(ids.SOURCE, self.run.external_id)
        if newest is None or newest.id == self.run.id:
            return self
        if newest.status in UNFINISHED and "rerun_in" not in (newest.details or {}):
            return Earlier(newest)
        return None

    def next_attempt(self, retry: int) -> tuple[str, int]:
        """``(external_id, attempt)`` of the `retry`-th attempt (1, 2, ...) of its rerun."""
        return self.run.external_id, self.run.attempt + retry

    def mark_rerun(self, workflow_id: str) -> None:
        """Record that the job was rerun (and abort it if it was left ``started``)."""
        lifecycle.engine_run(self.run.transform_id, external_source=ids.SOURCE,
                             external_id=self.run.external_id, attempt=self.run.attempt,
                             details={"rerun_in": workflow_id})
        if self.run.status == "started":
            lifecycle.finish_run(self.run, "aborted", DIED)


def unfinished_jobs(transform_key: str, workdir: str) -> dict[tuple[str, ...], Earlier]:
    """Unfinished or failed, not yet rerun job runs of earlier workflow runs, by their outputs."""
    candidates = (ln.Run.filter(external_source=ids.SOURCE, transform__key=transform_key,
                                status__in=list(UNFINISHED),
                                initiated_by_run_id__isnull=False)
                  .order_by("-id")[:LIMIT].all())
    found: dict[tuple[str, ...], Earlier] = {}
    workdirs: dict[int, Any] = {}
    for run in candidates:
        details = run.details or {}
        outputs = tuple(details.get("output") or ())
        if not outputs or "rerun_in" in details or outputs in found:
            continue
        parent_id = run.initiated_by_run_id
        if parent_id not in workdirs:
            parent = ln.Run.filter(id=parent_id).first()
            workdirs[parent_id] = (parent.details or {}).get("workdir") if parent else None
        if workdirs[parent_id] == workdir:
            found[outputs] = Earlier(run)
    return found
