"""``lineage nextflow import trace.txt``: a Nextflow trace file as a workflow run and its tasks.

A trace file (``-with-trace``) is a table, one row per finished task, its
columns the ``trace.fields`` of the run (the default ones or any others),
its values human-readable (``1m 30s``, ``29.8 MB``) or raw numbers
(``trace.raw = true``); columns are separated by tabs (``trace.sep`` may
choose another separator: a comma or a semicolon is recognized too).
Every row is checked before anything is written, so a bad file imports
nothing. The file names no pipeline and no session: the workflow run is the
one named ``--run-name`` when lineage already has it (from the weblog or a
lineage store), else a run named after the file. Importing the same file
again changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.nextflow import fields

if TYPE_CHECKING:
    from lineage.models.run import Run


@dataclass
class Summary:
    """What an import recorded.

    Attributes:
        workflow: The workflow run.
        tasks: Task executions read.
        new_runs: Runs created by this import (0 when it was imported before).
        artifacts: Files recorded as task inputs and outputs.
        workflows: Workflow runs read.
    """

    workflow: Run
    tasks: int
    new_runs: int
    artifacts: int = 0
    workflows: int = 1

    def describe(self) -> str:
        """One line for the command line."""
        more = f" and {self.workflows - 1} more" if self.workflows > 1 else ""
        text = (f"workflow run {self.workflow.uid} ({self.workflow.name}, "
                f"{self.workflow.status}){more}: {self.tasks} task execution"
                f"{'s' if self.tasks != 1 else ''}, {self.new_runs} new run"
                f"{'s' if self.new_runs != 1 else ''}")
        if self.artifacts:
            text += f", {self.artifacts} file{'s' if self.artifacts != 1 else ''}"
        return text


def read_trace(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a trace file, normalized (`lineage.nextflow.fields.normalize`).

    Raises:
        ValidationError: The file is empty, a row has more or fewer columns
            than the header, or a value does not fit its column (the
            message names the line and the field).
    """
    from lineage.errors import ValidationError

    location = Path(path)
    with open(location, newline="", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ValidationError(f"{location} is empty: a Nextflow trace file starts with a header "
                              "line (task_id, hash, name, status, ...).")
    header = lines[0]
    separator = next((sep for sep in ("\t", ",", ";") if sep in header), "\t")
    reader = csv.reader(lines, delimiter=separator)
    names = [name.strip() for name in next(reader)]
    if not set(fields.NAMING) & set(names):
        raise ValidationError(
            f"{location} is not a Nextflow trace file: its header ({', '.join(names[:6])}) has "
            "none of the columns name, process, task_id, hash.")
    rows = []
    for number, values in enumerate(reader, start=2):
        if len(values) != len(names):
            raise ValidationError(f"{location}, line {number}: {len(values)} values for "
                                  f"{len(names)} columns.")
        try:
            rows.append(fields.normalize(dict(zip(names, values))))
            fields.check_named(rows[-1])
        except ValueError as exc:
            raise ValidationError(f"{location}, line {number}: {exc}.") from None
    return rows


def _workflow_status(rows: list[dict[str, Any]]) -> str:
    """completed, errored (the last execution of a task failed) or started (some still open)."""
    from lineage.lifecycle import FINAL_STATUSES

    last: dict[Any, str] = {}
    for row in rows:
        last[row.get("name") or row.get("task_id")] = fields.status_of(row, "completed")
    if any(status not in FINAL_STATUSES for status in last.values()):
        return "started"
    return "errored" if "errored" in last.values() or "aborted" in last.values() else "completed"


def import_trace(path: str | os.PathLike[str], *, run_name: str | None = None) -> Summary:
    """Record a trace file: its workflow run and one run per task execution (idempotent)."""
    import lineage as ln
    from lineage import lifecycle
    from lineage.nextflow import record

    location = Path(path)
    rows = read_trace(location)
    before = ln.Run.filter(external_source=record.SOURCE).count()
    workflow = _known_workflow(run_name) if run_name else None
    if workflow is None:
        name = run_name or location.stem
        digest = hashlib.sha256(str(location.resolve()).encode()).hexdigest()[:12]
        session = "trace" if run_name else f"trace-{digest}"
        starts = [row["submit"] for row in rows if row.get("submit")]
        ends = [row["complete"] for row in rows if row.get("complete")]
        status = _workflow_status(rows)
        workflow = record.workflow_run(
            record.Workflow(name, session, details={"trace_file": str(location.resolve())}),
            status=status, started_at=min(starts) if starts else None,
            finished_at=(max(ends) if ends else None) if status in lifecycle.FINAL_STATUSES
            else None)
    for row in rows:
        record.task_run(workflow, row, default_status="completed")
    created = ln.Run.filter(external_source=record.SOURCE).count() - before
    return Summary(ln.Run.get(workflow.uid), len(rows), created)


def _known_workflow(run_name: str) -> Run | None:
    """The one Nextflow workflow run named `run_name` lineage has, if any."""
    import lineage as ln
    from lineage.errors import ValidationError
    from lineage.nextflow import record

    found = list(ln.Run.filter(external_source=record.SOURCE, name=run_name,
                               initiated_by_run_id__isnull=True).all())
    if len(found) > 1:
        raise ValidationError(
            f"{len(found)} Nextflow workflow runs are named {run_name!r} "
            f"({', '.join(r.uid for r in found)}): import the trace under another --run-name.")
    return found[0] if found else None
