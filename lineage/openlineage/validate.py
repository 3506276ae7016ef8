"""Is this an OpenLineage run event? Checks of the shape ingest relies on.

The official JSON schemas are not shipped with lineage (they are not on
PyPI), so ingest checks, by hand, what the 2-0-2 RunEvent schema requires:
``eventTime`` (date-time), ``producer`` and ``schemaURL`` (strings),
``eventType`` (one of `EVENT_TYPES`, optional), ``run.runId`` (a UUID),
``job.namespace`` and ``job.name`` (strings), datasets with ``namespace``
and ``name``, and facets that are objects with ``_producer`` and
``_schemaURL``. The tests check that these agree with the official schema.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

#: The values of ``eventType``.
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")


def problems(event: Any) -> list[str]:
    """What makes `event` not a valid OpenLineage RunEvent (empty when it is one)."""
    if not isinstance(event, dict):
        return [f"an event is a JSON object, got {type(event).__name__}"]
    found: list[str] = []
    for name in ("eventTime", "producer", "schemaURL"):
        if name not in event:
            found.append(f"'{name}' is required")
        elif not isinstance(event[name], str):
            found.append(f"'{name}' must be a string")
    if isinstance(event.get("eventTime"), str) and parse_time(event["eventTime"]) is None:
        found.append(f"eventTime {event['eventTime']!r} is not an ISO 8601 date-time")
    if "eventType" in event and event["eventType"] not in EVENT_TYPES:
        found.append(f"eventType must be one of {', '.join(EVENT_TYPES)}, "
                     f"got {event['eventType']!r}")
    run, job = event.get("run"), event.get("job")
    if not isinstance(run, dict):
        found.append("'run' is required and must be an object with a runId"
                     + (" (dataset and job events are not run events)" if "dataset" in event
                        or "job" in event and "run" not in event else ""))
    else:
        run_id = run.get("runId")
        if not isinstance(run_id, str) or not _is_uuid(run_id):
            found.append(f"run.runId must be a UUID, got {run_id!r}")
        found += _facets(run.get("facets"), "run.facets")
    if not isinstance(job, dict):
        found.append("'job' is required and must be an object with namespace and name")
    else:
        found += _named(job, "job")
        found += _facets(job.get("facets"), "job.facets")
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        datasets = event.get(side)
        if datasets is None:
            continue
        if not isinstance(datasets, list):
            found.append(f"'{side}' must be a list of datasets")
            continue
        for index, dataset in enumerate(datasets):
            where = f"{side}[{index}]"
            if not isinstance(dataset, dict):
                found.append(f"{where} must be an object with namespace and name")
                continue
            found += _named(dataset, where)
            found += _facets(dataset.get("facets"), f"{where}.facets")
            found += _facets(dataset.get(extra), f"{where}.{extra}")
    return found


def parse_time(text: str) -> datetime | None:
    """An aware datetime from an ISO 8601 date-time with a zone, else None."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in text.upper():
        return None
    return moment


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _named(obj: dict[str, Any], where: str) -> list[str]:
    return [f"{where}.{name} is required and must be a string" for name in ("namespace", "name")
            if not isinstance(obj.get(name), str)]


def _facets(facets: Any, where: str) -> list[str]:
    if facets is None:
        return []
    if not isinstance(facets, dict):
        return [f"{where} must be an object"]
    found = []
    for name, value in facets.items():
        if not isinstance(value, dict):
            found.append(f"{where}.{name} must be an object")
            continue
        for key in ("_producer", "_schemaURL"):
            if not isinstance(value.get(key), str):
                found.append(f"{where}.{name}.{key} is required and must be a string")
    return found
