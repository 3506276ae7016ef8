"""OpenLineage run events of other tools, recorded as runs.

Each event goes through `lineage.lifecycle` (never tables): its job is a
Transform (key ``<job namespace>/<job name>``, source from the
``sourceCode`` facet), its run a Run found by the event's ``runId``
(``external_source="openlineage"``), the ``parent`` facet the run's
``initiated_by_run``, its datasets reference artifacts (no object stored;
location = dataset namespace, name, version from the ``version`` facet).

Events may come twice and in any order: the same ``runId`` is one run, a
START after its COMPLETE keeps the run completed (an earlier start time is
taken), datasets and links are recorded once. A final event later than the
one recorded, with another outcome, corrects the status
(`lineage.lifecycle.correct_status`, the earlier one kept in the change
history). An unknown parent is recorded as a ``scheduled`` run until its own
events arrive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lineage.errors import ValidationError
from lineage.openlineage.events import OPENLINEAGE_SOURCE
from lineage.openlineage.facets import LINEAGE_FACET
from lineage.openlineage.validate import parse_time, problems

#: Event type -> run status (OTHER carries metadata, or a status in the ``lineage`` facet).
STATUSES = {"START": "started", "RUNNING": "started", "COMPLETE": "completed",
            "FAIL": "errored", "ABORT": "aborted"}
_FINAL = ("completed", "errored", "aborted", "cached", "skipped")


@dataclass
class Recorded:
    """What one event did.

    Attributes:
        run_uid: Uid of the run the event is about.
        run_id: The event's OpenLineage run id.
        status: The run's status after the event.
        corrected: Whether the event changed a final status.
    """

    run_uid: str
    run_id: str
    status: str
    corrected: bool = False


def check(event: Any) -> None:
    """Raise `ValidationError` naming every problem when `event` is not a run event."""
    found = problems(event)
    if found:
        raise ValidationError("not a valid OpenLineage run event: " + "; ".join(found)
                              + ". See https://openlineage.io/spec/2-0-2/OpenLineage.json.")


def ingest_event(event: Any) -> Recorded:
    """Record one OpenLineage run event in the current instance (idempotent).

    Raises:
        ValidationError: `event` is not a valid run event (nothing is written).
    """
    from lineage import lifecycle

    check(event)
    moment = parse_time(event["eventTime"])
    run_id = str(uuid.UUID(event["run"]["runId"]))
    run_facets = event["run"].get("facets") or {}
    job = event["job"]
    own = run_facets.get(LINEAGE_FACET) or {}
    event_type = event.get("eventType", "OTHER")
    status = STATUSES.get(event_type)
    if event_type == "OTHER" and own.get("status") in _FINAL:
        status = own["status"]
    error = _error(run_facets.get("errorMessage")) if status == "errored" else None
    parent = _parent(run_facets.get("parent"), moment)
    final = status in _FINAL
    run = lifecycle.engine_run(
        _transform(job), external_source=OPENLINEAGE_SOURCE, external_id=run_id,
        parent=parent, params=own.get("params") if isinstance(own.get("params"), dict) else None,
        details=_details(event), git=_git(job.get("facets") or {}), cli_args=[],
        environment=False, status=status or "started", started_at=moment,
        finished_at=moment if final else None, error=error)
    corrected = False
    if final and run.status in _FINAL and run.status != status and (
            run.finished_at is None or moment > run.finished_at):
        corrected = lifecycle.correct_status(
            run, status, error=error, finished_at=moment, reason=f"OpenLineage {event_type} event at "
                                             f"{event['eventTime']}")
    for side, role in (("inputs", "input"), ("outputs", "output")):
        for dataset in event.get(side) or []:
            _dataset(run, dataset, role)
    return Recorded(run.uid, run_id, run.status, corrected)


def _transform(job: dict[str, Any]) -> Any:
    """The Transform of a job; an event without source keeps the latest version."""
    from lineage import lifecycle
    from lineage.models.transform import Transform

    key = f"{job['namespace']}/{job['name']}"
    source = ((job.get("facets") or {}).get("sourceCode") or {}).get("sourceCode")
    if not isinstance(source, str) or not source:
        latest = Transform.filter(key=key, is_latest=True).first()
        if latest is not None:
            return latest
        source = None
    return lifecycle.get_or_create_transform(key, source, OPENLINEAGE_SOURCE)


def _parent(facet: Any, moment: Any) -> Any:
    """The run of the ``parent`` facet (a ``scheduled`` placeholder until its events come)."""
    from lineage import lifecycle

    if not isinstance(facet, dict):
        return None
    run, job = facet.get("run") or {}, facet.get("job") or {}
    try:
        parent_id = str(uuid.UUID(run.get("runId", "")))
    except (ValueError, AttributeError, TypeError):
        return None
    found = lifecycle.find_engine_run(OPENLINEAGE_SOURCE, parent_id, 1)
    if found is not None:
        return found
    if not isinstance(job.get("namespace"), str) or not isinstance(job.get("name"), str):
        return None
    return lifecycle.engine_run(
        _transform({"namespace": job["namespace"], "name": job["name"]}),
        external_source=OPENLINEAGE_SOURCE, external_id=parent_id, status="scheduled",
        started_at=moment, cli_args=[], environment=False,
        details={OPENLINEAGE_SOURCE: {"job": {"namespace": job["namespace"],
                                              "name": job["name"]}}})


def _details(event: dict[str, Any]) -> dict[str, Any]:
    job = event["job"]
    facets = event["run"].get("facets") or {}
    known: dict[str, Any] = {"job": {"namespace": job["namespace"], "name": job["name"]},
                             "producer": event["producer"]}
    engine = facets.get("processing_engine")
    if isinstance(engine, dict) and isinstance(engine.get("version"), str):
        known["engine"] = {"name": engine.get("name"), "version": engine["version"]}
    return {OPENLINEAGE_SOURCE: known}


def _git(facets: dict[str, Any]) -> dict[str, Any] | None:
    location = facets.get("sourceCodeLocation")
    if not isinstance(location, dict) or location.get("type", "git") != "git":
        return None
    from lineage.capture.redact import redact_url

    def url(value: Any) -> str | None:
        return redact_url(value) if isinstance(value, str) else None

    return {"commit": location.get("version"), "branch": location.get("branch"), "dirty": None,
            "remote": url(location.get("repoUrl")), "path": location.get("path"),
            "url": url(location.get("url"))}


def _error(facet: Any) -> str | None:
    if not isinstance(facet, dict):
        return None
    text = facet.get("stackTrace") or facet.get("message")
    return text if isinstance(text, str) else None


def _dataset(run: Any, dataset: dict[str, Any], role: str) -> None:
    from lineage import lifecycle

    if not dataset["namespace"].strip() or not dataset["name"].strip():
        return  # nothing to join the graph on
    facets = dataset.get("facets") or {}
    version = (facets.get("version") or {}).get("datasetVersion")
    stats = (dataset.get("outputFacets") or {}).get("outputStatistics") or {}
    size, files = stats.get("size"), stats.get("fileCount")
    lifecycle.record_reference(
        run, dataset["namespace"], dataset["name"], role=role,  # type: ignore[arg-type]
        version=version if isinstance(version, str) else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        n_files=files if isinstance(files, int) and not isinstance(files, bool) else None)
