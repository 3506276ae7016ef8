"""Helpers: a comparable picture of a set of events, and a second instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lineage as ln


def graph(events: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """What a lineage graph of `events` is made of: runs, jobs, parents, datasets, outcomes."""
    out: set[tuple[Any, ...]] = set()
    for event in events:
        run_id = event["run"]["runId"]
        job = (event["job"]["namespace"], event["job"]["name"])
        out.add(("job", run_id, job))
        out.add(("event", run_id, event["eventType"]))
        parent = event["run"]["facets"].get("parent")
        if parent:
            out.add(("parent", run_id, parent["run"]["runId"],
                     parent["job"]["namespace"], parent["job"]["name"]))
        for side in ("inputs", "outputs"):
            for d in event.get(side) or []:
                version = (d.get("facets") or {}).get("version", {}).get("datasetVersion")
                out.add((side, run_id, d["namespace"], d["name"], version))
    return out


def other_instance(backend: str, tmp_path: Path, request: Any) -> Any:
    """A second, empty instance on `backend`, made current."""
    if backend == "sqlite":
        return ln.init(storage=tmp_path / "other")
    url = request.getfixturevalue("fresh_postgres_db")
    return ln.init(storage=tmp_path / "other", db=url)
