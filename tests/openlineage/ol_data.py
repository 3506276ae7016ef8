"""A small instance with every kind of run the OpenLineage mapping knows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lineage as ln
from lineage import lifecycle

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def build(folder: Path) -> dict[str, Any]:
    """Runs of a flow and its steps, an errored step and engine runs of each final status."""
    folder.mkdir(parents=True, exist_ok=True)
    source = "def main(): ...\ndef make(): ...\ndef use(): ...\n"
    flow_t = lifecycle.get_or_create_transform("pipelines/etl.py", source, "flow")
    git = {"commit": "a" * 40, "branch": "main", "dirty": False,
           "remote": "https://bob:s3cr3tpw@github.com/org/repo.git", "path": "pipelines/etl.py",
           "url": None}
    flow = lifecycle.engine_run(flow_t, external_source="prefect", external_id="flow-1",
                                entrypoint="main", git=git, started_at=T0,
                                params={"day": "2026-12-01", "db_password": "hunter2"})
    raw = folder / "raw.csv"
    raw.write_text("a,b\n1,2\n")
    make = lifecycle.engine_run(flow_t, external_source="prefect", external_id="task-make",
                                entrypoint="make", parent=flow, started_at=T0)
    table = lifecycle.record_file(make, raw, role="output", key="raw/raw.csv")
    lifecycle.finish_run(make, "completed")
    use = lifecycle.engine_run(flow_t, external_source="prefect", external_id="task-use",
                               entrypoint="use", parent=make, inputs=[table],
                               started_at=T0 + timedelta(minutes=1))
    lifecycle.finish_run(use, "errored", "Traceback (most recent call last):\n"
                         "ValueError: cannot reach postgresql://etl:pw123@db/x token=abc")
    runs = {"flow": flow, "make": make, "use": use}
    for status in ("cached", "skipped", "aborted"):
        runs[status] = lifecycle.engine_run(
            flow_t, external_source="prefect", external_id=f"task-{status}", entrypoint=status,
            parent=flow, status=status, started_at=T0 + timedelta(minutes=2))
    lifecycle.finish_run(flow, "completed")
    script_t = lifecycle.get_or_create_transform("notes/plain.py", "print(1)\n", "script")
    runs["script"] = lifecycle.start_run(script_t, params={"api_key": "k-123"})  # stays open
    return {"runs": {k: ln.Run.get(v.uid) for k, v in runs.items()}, "artifact": table}
