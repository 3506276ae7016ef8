"""Snakemake's log events of one workflow run, translated into lineage runs.

Snakemake reports a workflow run through its logger: ``workflow_started``,
then per job ``job_started`` (a list of job ids), ``job_info`` (rule,
files, wildcards, resources, shell command), ``job_finished`` or an
``error`` followed by ``job_error``, and finally no event at all: the
handler's ``close()`` is the end. `Recorder` keeps what it needs between
events (the workflow run, each job's run and attempt, the files seen) and
writes through `lineage.lifecycle` only. It is called on Snakemake's
logging thread, one event at a time, under a lock. `Recorder.prepare` runs
before any event, on the main thread: it names the workflow run and makes
every process a job starts inherit the uid of the job's run.

A job whose ``job_finished`` never came (``--quiet progress`` drops it) is
finished at the end: completed if Snakemake recorded its outputs complete
(`metadata.finished_after`), else aborted. A failed workflow finishes every
run still open, and the workflow run itself is errored with the errors
Snakemake reported.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lineage import lifecycle
from snakemake_logger_plugin_lineage import config, ids, internals, jobs, metadata, reruns
from snakemake_logger_plugin_lineage.files import Files, local_path

#: Lines of a failed job's log files kept in ``run.error``.
LOG_TAIL_LINES = 40
#: Characters of one log file's tail kept in ``run.error``.
LOG_TAIL_CHARS = 8_000


@dataclass
class Job:
    """What the recorder knows of one job of the workflow run."""

    jobid: int
    attempt: int = 0
    started: float = 0.0
    run: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    #: The unfinished run of an earlier workflow run that this job reruns.
    earlier: reruns.Earlier | None = None
    checked: bool = False


class Recorder:
    """The lineage runs of one Snakemake workflow run.

    Args:
        project: A project to link the runs to, or None.
    """

    def __init__(self, project: str | None = None) -> None:
        self.project = project
        self.lock = threading.Lock()
        self.workflow: Any = None
        self.workflow_id: str | None = None
        self.workdir = os.getcwd()
        self.source: lifecycle.Source | None = None
        self.jobs: dict[int, Job] = {}
        self.files = Files(self.workdir)
        self.errors: list[str] = []
        self.activation: lifecycle.Activation | None = None
        self.unfinished: dict[tuple[str, ...], reruns.Earlier] = {}
        # The uid of each job's current run, named when its first process starts if that
        # comes before the run is written (see `env_for_job`); under its own small lock,
        # since job threads read it while this thread may be busy hashing.
        self.uid_lock = threading.Lock()
        self.job_uids: dict[tuple[int, int], str] = {}  # (jobid, attempt) -> uid
        # Attempts per job as the main thread logs them (``job_started``), ahead of `jobs`.
        self.started_attempts: dict[int, int] = {}
        self._undo_env: Any = None
        self._undo_watch: Any = None
        self.workflow_uid: str | None = None
        self._previous_parent: str | None = None

    def prepare(self) -> None:
        """Before any event: name the workflow run and give job processes their runs.

        Runs on Snakemake's main thread when the handler is made, so that a
        job started before this recorder has written anything (the logging
        thread may lag behind) still gets its run's uid, and any other
        process the workflow's run. Nothing is written here.
        """
        self.workflow_uid = lifecycle.new_run_uid()
        self._previous_parent = os.environ.get(lifecycle.PARENT_ENV)
        os.environ[lifecycle.PARENT_ENV] = self.workflow_uid
        self._undo_env = internals.add_job_environment(self.env_for_job)
        self._undo_watch = internals.watch_records(self.logged)

    def logged(self, record: Any) -> None:
        """A record as Snakemake's main thread logs it: count job attempts before they start."""
        if str(getattr(record, "event", "")) != "job_started":
            return
        with self.uid_lock:
            for jobid in getattr(record, "jobs", None) or ():
                self.started_attempts[int(jobid)] = self.started_attempts.get(int(jobid), 0) + 1

    def _parent(self) -> Any:
        """The run that started Snakemake (a tracked script), named by the variable it had."""
        if not self._previous_parent:
            return None
        import lineage as ln

        return ln.Run.filter(uid=self._previous_parent).first()

    def unprepare(self) -> None:
        """Undo `prepare` (the end of the workflow run)."""
        if self._undo_env is not None:
            self._undo_env()
            self._undo_env = None
        if self._undo_watch is not None:
            self._undo_watch()
            self._undo_watch = None
        if self.workflow_uid is not None and os.environ.get(lifecycle.PARENT_ENV) == self.workflow_uid:
            if self._previous_parent is None:
                os.environ.pop(lifecycle.PARENT_ENV, None)
            else:
                os.environ[lifecycle.PARENT_ENV] = self._previous_parent

    # --- events ------------------------------------------------------------------
    def workflow_started(self, event: dict[str, Any], when: float) -> None:
        """The workflow run starts: its run, and the parent of runs its jobs start."""
        self.workflow_id = str(event.get("workflow_id"))
        self.workdir = str(event.get("cwd") or event.get("rundir") or os.getcwd())
        self.files = Files(self.workdir)
        snakefile = str(event.get("snakefile_main") or os.path.join(self.workdir, "Snakefile"))
        self.source = lifecycle.file_transform(snakefile, ids.KIND)
        configfiles = [str(f) for f in event.get("configfiles") or ()]
        details = {
            "workflow_id": self.workflow_id,
            "snakemake_version": event.get("snakemake_version"),
            "workdir": self.workdir,
            "configfiles": configfiles,
            "config_md5": event.get("config_md5"),
        }
        self.workflow = lifecycle.engine_run(
            self.source.transform, external_source=ids.SOURCE, external_id=self.workflow_id,
            entrypoint=os.path.basename(snakefile), name=f"snakemake {os.path.basename(snakefile)}",
            params=config.read_config(self.workdir, configfiles), details=details,
            git=self.source.git, started_at=_time(when), uid=self.workflow_uid,
            parent=self._parent(), inherit_parent=self.workflow_uid is None,
            projects=[self.project] if self.project else ())
        # Code that runs in this process (``run:`` blocks) links to the workflow run; processes
        # that jobs start get their job's run instead (`env_for_job`).
        self.activation = lifecycle.activate(self.workflow, process_wide=True, set_context=False)
        self.unfinished = reruns.unfinished_jobs(self.source.transform.key, self.workdir)

    def env_for_job(self, jobid: int) -> dict[str, str] | None:
        """Variables for a process that job `jobid` starts: its run as the parent run.

        Called on the job's thread when Snakemake starts the process, maybe
        before this recorder has written the job's run: the run is then
        named here and written with that uid. A tracked script started by
        the job (``ln.track()``) links to it through ``LINEAGE_PARENT_RUN_UID``.
        """
        with self.uid_lock:
            attempt = self.started_attempts.get(jobid, 1)
        return {lifecycle.PARENT_ENV: self._job_uid(jobid, attempt)}

    def _job_uid(self, jobid: int, attempt: int) -> str:
        """The uid of the run of attempt `attempt` of job `jobid` (named on first use)."""
        with self.uid_lock:
            uid = self.job_uids.get((jobid, attempt))
            if uid is None:
                uid = self.job_uids[(jobid, attempt)] = lifecycle.new_run_uid()
            return uid

    def _attempt_ended(self, job: Job) -> None:
        job.run = None

    def job_started(self, jobids: list[int], when: float) -> None:
        """Snakemake starts jobs (a restart of a job keeps its id: the next attempt)."""
        for jobid in jobids:
            job = self.jobs.setdefault(int(jobid), Job(int(jobid)))
            job.attempt += 1
            job.started = when
            job.run = None

    def job_info(self, event: dict[str, Any], when: float) -> None:
        """A job's facts (after its ``job_started``): its run, with its input files."""
        if self.workflow is None:
            return
        jobid = int(event["jobid"])
        job = self.jobs.setdefault(jobid, Job(jobid, attempt=1, started=when))
        job.attempt = max(job.attempt, 1)
        job.info = jobs.job_facts(event)
        if not job.checked:
            earlier = self.unfinished.pop(tuple(job.info["output"]), None)
            job.earlier = earlier.latest() if earlier is not None else None
            job.checked = True
        if job.earlier is not None:
            external_id, attempt = job.earlier.next_attempt(job.attempt)
            job.info["rerun_of"] = job.earlier.run.uid
        else:
            external_id, attempt = ids.job_external_id(self.workflow_id, jobid), job.attempt
        job.run = lifecycle.engine_run(
            self.workflow.transform_id, external_source=ids.SOURCE, external_id=external_id,
            attempt=attempt, parent=self.workflow, entrypoint=job.info["rule"],
            name=jobs.job_name(job.info), details=job.info, git=self.source.git if self.source else None,
            started_at=_time(job.started or when), projects=[self.project] if self.project else (),
            uid=self._job_uid(jobid, job.attempt))
        if job.earlier is not None and job.attempt == 1:
            job.earlier.mark_rerun(self.workflow_id)
        gone = self.files.record(job.run, job.info.get("input", ()), "input")
        if gone:
            lifecycle.engine_run(job.run.transform_id, external_source=ids.SOURCE,
                                 external_id=external_id, attempt=attempt,
                                 details={"inputs_gone": gone})

    def job_finished(self, jobid: int, when: float) -> None:
        """A job succeeded: its outputs, its params, completed."""
        job = self.jobs.get(int(jobid))
        if job is None or job.run is None:
            return
        self._complete(job, when)

    def job_error(self, event: dict[str, Any], when: float) -> None:
        """A job attempt failed: errored, with Snakemake's error and the tail of its logs."""
        job = self.jobs.get(int(event["jobid"]))
        if job is None or job.run is None:
            return
        logs = [p for p in (local_path(str(n)) for n in event.get("log") or ()) if p]
        lines = [f"Error in rule {job.info.get('rule')}, jobid {job.jobid}, attempt {job.attempt}."]
        if self.errors:
            lines.append(self.errors[-1])
        if event.get("shellcmd"):
            lines.append(f"Shell command: {event['shellcmd']}")
        for log in logs:
            tail = log_tail(os.path.join(self.workdir, log))
            if tail is not None:
                lines.append(f"Log {log} (last lines):\n{tail}")
        lifecycle.finish_run(job.run, "errored", "\n".join(lines), finished_at=_time(when))
        self._attempt_ended(job)

    def error(self, message: str) -> None:
        """Snakemake reported an error (of a job, or of the whole workflow)."""
        if message:
            self.errors.append(message)

    def close(self, when: float) -> None:
        """The workflow run ended: finish open job runs, then the workflow run."""
        if self.workflow is None:
            return
        try:
            open_jobs = [job for job in self.jobs.values() if job.run is not None]
            aborted = 0
            for job in open_jobs:
                if metadata.finished_after(self.workdir, job.info.get("output", []), job.started):
                    self._complete(job, when)
                else:
                    lifecycle.finish_run(
                        job.run, "aborted",
                        "The workflow run ended before this job finished.", finished_at=_time(when))
                    self._attempt_ended(job)
                    aborted += 1
            if self.errors:
                status, error = "errored", "\n\n".join(self.errors)
            elif aborted:
                status, error = "aborted", f"{aborted} job(s) did not finish."
            else:
                status, error = "completed", None
            lifecycle.finish_run(self.workflow, status, error, finished_at=_time(when))
        finally:
            if self.activation is not None:
                lifecycle.deactivate(self.activation)
                self.activation = None
            self.unprepare()

    # --- helpers -----------------------------------------------------------------
    def _complete(self, job: Job, when: float) -> None:
        run = job.run
        outputs = list(job.info.get("output", ()))
        gone = self.files.record(run, outputs + list(job.info.get("log", ())), "output")
        params = jobs.job_params(self.workdir, job.jobid, outputs)
        lifecycle.engine_run(
            run.transform_id, external_source=ids.SOURCE, external_id=run.external_id,
            attempt=run.attempt, params=params, details={"outputs_gone": gone} if gone else None,
            status="completed", finished_at=_time(when))
        self._attempt_ended(job)


def log_tail(path: str) -> str | None:
    """The last lines of a log file (None if unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - LOG_TAIL_CHARS))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    return "\n".join(data.splitlines()[-LOG_TAIL_LINES:])


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)
