"""A Nextflow workflow run and its tasks as lineage runs (through `lineage.lifecycle`).

Every door (weblog events, trace files, the lineage store) ends here, so
they record the same shape:

* the workflow run: a Run of the pipeline's Transform (key
  ``<pipeline>/<main script>``; its source when the script is readable
  here), ``external_source="nextflow"``, ``external_id="<run name>/<session
  id>"`` (``-resume`` reuses the session id under a new run name);
* each task: a Run of the same Transform with ``entrypoint`` = the process,
  ``name`` = the task name, ``initiated_by_run`` = the workflow run,
  ``external_id="<workflow id>/<task name>"`` and ``attempt`` = Nextflow's
  attempt, every trace field in ``details``.

All writes are `lifecycle.engine_run` calls, idempotent by (external id,
attempt): an event received twice, events out of order, a receiver
restarted mid-run and an import repeated land on the same runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage import lifecycle
from lineage.nextflow import fields

if TYPE_CHECKING:
    from lineage.models.run import Run

SOURCE = "nextflow"
#: Transform of workflow runs whose pipeline is not known yet (their task events came first).
PROVISIONAL_KEY = "nextflow/unknown-pipeline"
#: ``details`` key of a task run closed because its workflow ended first.
CLOSED_BY_WORKFLOW = "closed_by_workflow_end"


@dataclass
class Workflow:
    """What is known about one Nextflow workflow run (any field may be missing).

    Attributes:
        run_name: Nextflow's run name (``friendly_pesquet``).
        session_id: The session id (the weblog's ``runId``).
        script_file: Path of the main script on the Nextflow machine.
        script_name: Its file name (``main.nf``).
        pipeline: The pipeline's name (manifest name, else the repository).
        repository: Git repository of a pipeline run from one.
        commit_id: Its commit.
        revision: Branch or tag asked for (``-r``).
        command_line: The ``nextflow run ...`` command line.
        params: Pipeline parameters (redacted when stored).
        details: Other facts (Nextflow version, profile, work dir, ...).
    """

    run_name: str
    session_id: str
    script_file: str | None = None
    script_name: str | None = None
    pipeline: str | None = None
    repository: str | None = None
    commit_id: str | None = None
    revision: str | None = None
    command_line: str | None = None
    params: Mapping[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def external_id(self) -> str:
        """``<run name>/<session id>``."""
        return f"{self.run_name}/{self.session_id}"

    @property
    def known(self) -> bool:
        """Whether the pipeline is known (else the run gets a placeholder transform)."""
        return bool(self.script_file or self.script_name or self.pipeline)


def transform_key(workflow: Workflow) -> str:
    """``<pipeline>/<main script>``, ``nf-core/rnaseq/main.nf`` say.

    Without any pipeline facts (task events that came before the workflow's
    own): `PROVISIONAL_KEY`, until `workflow_run` learns the pipeline.
    """
    if not workflow.known:
        return PROVISIONAL_KEY
    script = workflow.script_name or (Path(workflow.script_file.rstrip("/")).name
                                      if workflow.script_file else "main.nf")
    pipeline = workflow.pipeline
    if not pipeline and workflow.repository:
        pipeline = workflow.repository.rstrip("/").removesuffix(".git").split("://")[-1]
        pipeline = pipeline.split("/", 1)[-1] if "/" in pipeline else pipeline
    if not pipeline and workflow.script_file:
        pipeline = Path(workflow.script_file.rstrip("/")).parent.name
    return f"{pipeline}/{script}" if pipeline else script


def _transform(workflow: Workflow) -> tuple[Any, dict[str, Any] | None]:
    """(Transform, git) of the pipeline: its source when the main script is readable here."""
    key = transform_key(workflow)
    git = _metadata_git(workflow)
    script = local_path(workflow.script_file)
    if script is not None and script.is_file():
        source = lifecycle.file_transform(script, SOURCE, key=key)
        return source.transform, git or source.git
    reference = workflow.repository if workflow.known else None
    if reference:
        from lineage.capture.redact import redact_url

        reference = redact_url(reference)
    return lifecycle.get_or_create_transform(key, None, SOURCE, reference=reference), git


def local_path(path: str | None) -> Path | None:
    """A path Nextflow wrote (plain, or a ``file://`` URI) as a local path; None for others."""
    if not path:
        return None
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(path)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return Path(path) if not parts.scheme else None


def _metadata_git(workflow: Workflow) -> dict[str, Any] | None:
    if not (workflow.commit_id or workflow.repository):
        return None
    from lineage.capture.redact import redact_url

    return {"commit": workflow.commit_id, "branch": workflow.revision, "dirty": None,
            "remote": redact_url(workflow.repository) if workflow.repository else None,
            "path": workflow.script_name, "url": None}


def command_line(text: str | None) -> list[str]:
    """``nextflow run x --password y`` -> its words, secrets redacted."""
    if not text:
        return []
    from lineage.capture.cli import capture_cli_args

    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: keep it whole
        words = [text]
    return capture_cli_args(words)


def workflow_run(workflow: Workflow, *, status: str = "started",
                 started_at: datetime | None = None, finished_at: datetime | None = None,
                 error: str | None = None) -> Run:
    """Find or create the run of `workflow`, filling in what it lacks (idempotent)."""
    existing = lifecycle.find_engine_run(SOURCE, workflow.external_id, 1)
    if existing is not None and not workflow.known:
        transform: Any = existing.transform_id
        git = None
    else:
        transform, git = _transform(workflow)
        if existing is not None and existing.transform_id != transform.id:
            provisional = lifecycle.get_or_create_transform(PROVISIONAL_KEY, None, SOURCE)
            lifecycle.move_runs(existing, transform, from_transform=provisional)
    details = {"run_name": workflow.run_name, "session_id": workflow.session_id,
               "revision": workflow.revision, "repository": workflow.repository,
               "commit_id": workflow.commit_id, **workflow.details}
    details = {k: v for k, v in details.items() if v is not None}
    return lifecycle.engine_run(
        transform, external_source=SOURCE, external_id=workflow.external_id, attempt=1,
        params=dict(workflow.params) if workflow.params is not None else None,
        name=workflow.run_name, details=details, git=git,
        cli_args=command_line(workflow.command_line) if workflow.command_line else [],
        environment=False, status=status, started_at=started_at, finished_at=finished_at,
        error=error)


def _task_name(trace: Mapping[str, Any]) -> str:
    name = trace.get("name")
    if name:
        return str(name)
    process, tag = trace.get("process"), trace.get("tag")
    if process and tag:
        return f"{process} ({tag})"
    for key in ("process", "task_id", "hash"):
        if trace.get(key) is not None:
            return str(trace[key])
    raise ValueError("a trace record needs one of the fields name, process, task_id or hash")


def _same_execution(details: Mapping[str, Any], trace: Mapping[str, Any]) -> bool | None:
    """Whether a stored task and a trace record are one execution: the task id tells, else
    the hash (None: neither is known on both sides)."""
    for key in ("task_id", "hash"):
        if details.get(key) is not None and trace.get(key) is not None:
            return details[key] == trace[key]
    return None


def _identity(parent: Run, trace: Mapping[str, Any]) -> tuple[str, int]:
    """(external id, attempt) of a task execution.

    The id is the task name within the workflow run, so a retried task's
    attempts are attempts of one id. Nextflow's ``attempt`` field decides the
    attempt; without it (a default trace file, the lineage store) a new
    execution of a known name is the next attempt. Two different tasks
    sharing a name (a repeated tag) are told apart by task id.
    """
    import lineage as ln

    external_id = f"{parent.external_id}/{_task_name(trace)}"
    known = ln.Run.filter(external_source=SOURCE, external_id=external_id).order_by("attempt").all()
    same = [(run, _same_execution(run.details or {}, trace)) for run in known]
    for run, verdict in same:
        if verdict:
            return external_id, run.attempt
    attempt = trace.get("attempt")
    if attempt is None:
        if not any(verdict is False for _, verdict in same):
            return external_id, known[0].attempt if known else 1
        return external_id, max(run.attempt for run in known) + 1
    clash = next((verdict for run, verdict in same if run.attempt == attempt), None)
    if clash is False:
        return f"{external_id}#{trace.get('task_id') or trace.get('hash')}", int(attempt)
    return external_id, int(attempt)


def _stage(status: str) -> int:
    """How far a status is: scheduled 0, started 1, final 2."""
    return 2 if status in lifecycle.FINAL_STATUSES else int(status == "started")


def task_error(trace: Mapping[str, Any]) -> str | None:
    """``run.error`` of a failed task: its exit status and Nextflow's error action."""
    parts = [f"Nextflow task {_task_name(trace)!r} failed"]
    if trace.get("exit") is not None:
        parts.append(f"with exit status {trace['exit']}")
    text = " ".join(parts)
    if trace.get("error_action"):
        text += f" (error action: {trace['error_action']})"
    return text + "."


def task_run(parent: Run, trace: Mapping[str, Any], *, default_status: str = "started",
             when: datetime | None = None, params: Mapping[str, Any] | None = None,
             extra: Mapping[str, Any] | None = None) -> Run:
    """Find or create the run of one task execution from its normalized trace record.

    Args:
        parent: The workflow run.
        trace: A record `lineage.nextflow.fields.normalize` returned.
        default_status: The status when the record has none (the event says).
        when: When the event happened (for times the record lacks).
        params: The task's input values, if known.
        extra: More ``details`` (merged over the trace fields).
    """
    status = fields.status_of(trace, default_status)
    final = status in lifecycle.FINAL_STATUSES
    external_id, attempt = _identity(parent, trace)
    details = {**fields.details_of(trace), **(extra or {})}
    existing = lifecycle.find_engine_run(SOURCE, external_id, attempt)
    correct = (final and existing is not None and existing.status != status
               and bool((existing.details or {}).get(CLOSED_BY_WORKFLOW)))
    if correct:
        details[CLOSED_BY_WORKFLOW] = False
    elif existing is not None and _stage(existing.status) > _stage(status):
        # an older event arriving late (a start after the end): it adds, never overrides
        details = {k: v for k, v in details.items() if k not in (existing.details or {})}
    started_at = trace.get("submit") or trace.get("start") or (None if final else when)
    finished_at = (trace.get("complete") or when) if final else None
    error = task_error(trace) if status == "errored" else None
    process = trace.get("process") or str(trace.get("name") or "").split(" (")[0] or None
    run = lifecycle.engine_run(
        parent.transform_id, external_source=SOURCE, external_id=external_id, attempt=attempt,
        parent=parent, params=params, entrypoint=process, name=_task_name(trace), details=details,
        cli_args=[], environment=False, status=status, started_at=started_at,
        finished_at=finished_at, error=error)
    if correct:
        # closed when the workflow ended before this event arrived: the event knows better
        lifecycle.correct_status(run, status, error=error, finished_at=finished_at,
                                 reason="Nextflow reported the task's end after the workflow's")
    return run


def close_open_tasks(workflow: Run, when: datetime | None = None) -> list[Run]:
    """Finish the task runs of `workflow` still open when it ended (their end was not received).

    They become ``aborted``; a task event arriving later corrects them.
    """
    import lineage as ln

    closed = []
    for run in ln.Run.filter(initiated_by_run_id=workflow.id, external_source=SOURCE,
                             status__in=list(lifecycle.OPEN_STATUSES)).all():
        closed.append(lifecycle.engine_run(
            run.transform_id, external_source=SOURCE, external_id=run.external_id,
            attempt=run.attempt, status="aborted", finished_at=when, cli_args=[],
            environment=False, details={CLOSED_BY_WORKFLOW: True},
            error="The workflow ended before Nextflow reported the end of this task."))
    return closed
