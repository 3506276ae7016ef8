"""One run of lineage as OpenLineage run events.

A run is a START event at ``started_at`` and, once it ended, a COMPLETE
(``completed``), FAIL (``errored``), ABORT (``aborted``) or OTHER (``cached``,
``skipped``; the status is in the ``lineage`` facet) at ``finished_at``. The
run id is a UUID derived from the run uid, so exporting twice gives the same
ids; a run that came in as an OpenLineage event keeps its own run id, job
and datasets.

What is written (see docs/openlineage.md for the whole table):

* job: namespace (`Mapper.namespace`) and name ``<transform key>`` or
  ``<transform key>:<entrypoint>``; facets ``sourceCode``,
  ``sourceCodeLocation`` (from the run's git state) and ``jobType``;
* run facets: ``parent`` (with ``root``) from ``initiated_by_run``,
  ``processing_engine``, ``errorMessage`` and ``lineage`` (uid, status,
  attempt, params, engine ids);
* datasets: input and output artifacts, namespace the storage root
  (``file://<host><folder>``, ``s3://bucket/prefix``), name the artifact key
  (its uid for an artifact without a key), facets ``version`` (the hash),
  ``storage`` and, on outputs, ``outputStatistics``.

Secrets are redacted: params, errors and URLs go through
`lineage.capture.redact` again on the way out. Source code is exported as
stored (it is the user's code); leave it out with ``include_source=False``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lineage._version import __version__
from lineage.capture.redact import redact_mapping, redact_text, redact_url
from lineage.openlineage.facets import LINEAGE_FACET, PRODUCER, RUN_EVENT_SCHEMA_URL, facet

if TYPE_CHECKING:
    from lineage.models.run import Run

#: Final status -> event type; an open run has only its START event.
EVENT_TYPES = {"completed": "COMPLETE", "errored": "FAIL", "aborted": "ABORT",
               "cached": "OTHER", "skipped": "OTHER"}

#: Where run uids are turned into UUIDs (uuid5 of ``lineage:run:<uid>``).
RUN_ID_NAMESPACE = uuid.UUID("6f0c5a2e-4d1b-5c8e-9a7f-3b2d1e0c9f8a")

#: ``external_source`` of runs recorded from OpenLineage events.
OPENLINEAGE_SOURCE = "openlineage"

_LANGUAGES = {".py": "python", ".ipynb": "python", ".r": "r", ".nf": "nextflow",
              ".smk": "snakemake", ".sh": "shell", ".sql": "sql", ".jl": "julia"}
_JOB_TYPES = {"script": "SCRIPT", "notebook": "NOTEBOOK"}


def run_uuid(uid: str, external_source: str | None = None, external_id: str | None = None) -> str:
    """The OpenLineage run id of a run: stable across exports."""
    if external_source == OPENLINEAGE_SOURCE and external_id:
        try:
            return str(uuid.UUID(external_id))
        except ValueError:
            pass
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"lineage:run:{uid}"))


def event_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as OpenLineage consumers expect."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def job_of(transform_key: str, entrypoint: str | None, details: dict[str, Any] | None,
           namespace: str) -> dict[str, str]:
    """``{"namespace", "name"}`` of a run's job."""
    known = (details or {}).get(OPENLINEAGE_SOURCE, {}).get("job")
    if isinstance(known, dict) and known.get("namespace") and known.get("name"):
        return {"namespace": known["namespace"], "name": known["name"]}
    name = f"{transform_key}:{entrypoint}" if entrypoint else transform_key
    return {"namespace": namespace, "name": name}


def run_events(run: Run, context: Any) -> list[dict[str, Any]]:
    """The events of `run`, START first (`context`: a `lineage.openlineage.export.Batch`)."""
    if run.status == "scheduled":
        return []
    transform = context.transform(run.transform_id)
    job = job_of(transform["key"], run.entrypoint, run.details, context.namespace)
    job["facets"] = _job_facets(run, transform, context)
    inputs = [_dataset(a, context, output=False) for a in context.inputs(run.id)]
    outputs = [_dataset(a, context, output=True) for a in context.outputs(run.id)]
    run_id = run_uuid(run.uid, run.external_source, run.external_id)
    start = {
        "eventType": "START", "eventTime": event_time(run.started_at),
        "producer": PRODUCER, "schemaURL": RUN_EVENT_SCHEMA_URL,
        "run": {"runId": run_id, "facets": _run_facets(run, context, final=False)},
        "job": job, "inputs": inputs, "outputs": [],
    }
    events = [start]
    final = EVENT_TYPES.get(run.status)
    if final is not None:
        events.append({
            **start, "eventType": final,
            "eventTime": event_time(run.finished_at or run.started_at),
            "run": {"runId": run_id, "facets": _run_facets(run, context, final=True)},
            "outputs": outputs,
        })
    return events


# --- facets ------------------------------------------------------------------------
def _job_facets(run: Run, transform: dict[str, Any], context: Any) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    source = transform.get("source_code")
    if source and context.include_source:
        facets["sourceCode"] = facet("sourceCode", language=_language(transform["key"]),
                                     sourceCode=source)
    location = _source_location(run.git)
    if location is not None:
        facets["sourceCodeLocation"] = location
    if run.external_source:
        job_type = "TASK"
    elif run.entrypoint:
        job_type = "STEP" if run.initiated_by_run_id else "FLOW"
    else:
        job_type = _JOB_TYPES.get(transform.get("kind") or "", "SCRIPT")
    integration = (run.external_source or "lineage").upper()
    facets["jobType"] = facet("jobType", processingType="BATCH", integration=integration,
                              jobType=job_type)
    return facets


def _language(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if name == "Snakefile":
        return "snakemake"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _LANGUAGES.get(suffix, "python" if not suffix else suffix.lstrip("."))


def _source_location(git: dict[str, Any] | None) -> dict[str, Any] | None:
    """``sourceCodeLocation`` from a run's git state; None without a web URL."""
    if not git:
        return None
    remote = redact_url(git["remote"]) if git.get("remote") else None
    url = git.get("url") or (remote if remote and remote.startswith(("http://", "https://"))
                             else None)
    if not url:
        return None
    return facet("sourceCodeLocation", type="git", url=redact_url(url), repoUrl=remote,
                 path=git.get("path"), version=git.get("commit"), branch=git.get("branch"))


def _run_facets(run: Run, context: Any, *, final: bool) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    parent = context.parent_facet(run.initiated_by_run_id)
    if parent is not None:
        facets["parent"] = parent
    engine, engine_version = context.engine(run)
    facets["processing_engine"] = facet("processing_engine", version=engine_version,
                                        name=engine, openlineageAdapterVersion=__version__)
    if final and run.status == "errored" and run.error:
        facets["errorMessage"] = _error_facet(run.error)
    own = {"uid": run.uid, "status": run.status, "attempt": run.attempt,
           "params": redact_mapping(run.params) if run.params else None,
           "externalSource": run.external_source, "externalId": run.external_id}
    facets[LINEAGE_FACET] = facet(LINEAGE_FACET, **own)
    return facets


def _error_facet(error: str) -> dict[str, Any]:
    text = redact_text(error)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return facet("errorMessage", message=lines[-1].strip() if lines else text,
                 programmingLanguage="python", stackTrace=text)


def _dataset(artifact: dict[str, Any], context: Any, *, output: bool) -> dict[str, Any]:
    namespace, name = context.dataset_name(artifact)
    facets: dict[str, Any] = {}
    if artifact.get("hash"):
        facets["version"] = facet("version", datasetVersion=artifact["hash"])
    if artifact.get("kind") != "reference":
        suffix = (artifact.get("suffix") or "").lstrip(".")
        facets["storage"] = facet("storage", storageLayer="lineage",
                                  fileFormat=suffix.split(".")[-1] or None)
    dataset: dict[str, Any] = {"namespace": namespace, "name": name, "facets": facets}
    if output and artifact.get("size") is not None:
        dataset["outputFacets"] = {"outputStatistics": facet(
            "outputStatistics", size=artifact["size"], fileCount=artifact.get("n_files") or 1)}
    return dataset


def unique(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`items` without repeats of the same id, first seen first."""
    seen: set[int] = set()
    out = []
    for item in items:
        if item["id"] not in seen:
            seen.add(item["id"])
            out.append(item)
    return out
