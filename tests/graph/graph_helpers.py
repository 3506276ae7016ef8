"""Builders for lineage graphs: rows inserted through the record layer.

`Lineage` makes transforms, runs, artifacts, input links and re-creations
directly, so graph tests do not depend on the tracking or artifact-saving
code paths. Each builder returns saved records.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import lineage as ln
from lineage.db.record import current_db
from lineage.graph.build import node_id


def force_save(record: Any, **values: Any) -> Any:
    """Write system fields as lineage's own code does (test set-up of raw metadata)."""
    from lineage.db.cas import update_changed

    record._assign(**values)
    update_changed(current_db(), record, system=True)
    return record

_counter = itertools.count()
#: A fixed clock so labels with start times are predictable.
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


class Lineage:
    """Builds lineage rows in the current instance."""

    def __init__(self) -> None:
        self.transforms: dict[str, Any] = {}
        self.clock = T0

    def transform(self, key: str = "wf.py", kind: str = "script") -> Any:
        """The transform with `key`, created on first use."""
        if key not in self.transforms:
            digest = hashlib.sha256(key.encode()).hexdigest()
            self.transforms[key] = ln.Transform(key=key, hash=digest, kind=kind,
                                                source_code=f"# {key}\n").save()
        return self.transforms[key]

    def run(self, key: str = "wf.py", entrypoint: str | None = "main", inputs: tuple = (),
            parent: Any = None, status: str = "completed", params: dict | None = None) -> Any:
        """A run of transform `key` that loaded `inputs`, initiated by `parent`."""
        self.clock += timedelta(minutes=1)
        run = ln.Run(transform_id=self.transform(key).id, entrypoint=entrypoint, status=status,
                     started_at=self.clock, finished_at=self.clock + timedelta(seconds=30),
                     initiated_by_run_id=parent.id if parent is not None else None,
                     params=params).save()
        self.load(run, *inputs)
        return run

    def artifact(self, key: str | None, run: Any = None, hidden: bool = False,
                 **fields: Any) -> Any:
        """A new artifact created by `run`; a new version if `key` exists."""
        previous = ln.Artifact.filter(key=key, is_latest=True).first() if key else None
        if previous is not None and not hidden:
            force_save(previous, is_latest=False)
        digest = hashlib.sha256(f"{key}-{next(_counter)}".encode()).hexdigest()
        return ln.Artifact(
            key=key, hash=digest, size=1, run_id=run.id if run is not None else None,
            is_latest=not hidden, storage_ongoing=hidden,
            version=(previous.version + 1) if previous is not None else 1, **fields,
        ).save()

    def load(self, run: Any, *artifacts: Any) -> None:
        """Record `artifacts` as inputs of `run`."""
        rows = [(run.id, a.id, self.clock) for a in artifacts]
        if rows:
            current_db().write(lambda c: [c.execute(
                "INSERT INTO run_input (run_id, artifact_id, created_at) VALUES (?, ?, ?)",
                [r, a, c.dialect.encode("datetime", t)]) for r, a, t in rows])

    def recreate(self, artifact: Any, run: Any) -> Any:
        """`run` saved the same content again: it becomes the creator, the old one previous."""
        old = artifact.run_id
        if old is not None:
            current_db().write(lambda c: c.execute(
                "INSERT INTO artifact_previous_run (artifact_id, run_id, created_at) "
                "VALUES (?, ?, ?)",
                [artifact.id, old, c.dialect.encode("datetime", self.clock)]))
        return force_save(artifact, run_id=run.id)


def nodes(*records: Any) -> set[str]:
    """Node ids of `records`."""
    return {node_id(r) for r in records}


def edges(graph: Any, with_relation: bool = True) -> set[tuple]:
    """The edge set of `graph`, as (source, target[, relation[, "recreated"]])."""
    out = set()
    for a, b, data in graph.edges(data=True):
        if not with_relation:
            out.add((a, b))
        elif data.get("recreated"):
            out.add((a, b, data["relation"], "recreated"))
        else:
            out.add((a, b, data["relation"]))
    return out


def E(source: Any, target: Any, relation: str, recreated: bool = False) -> tuple:
    """An expected edge between two records."""
    edge = (node_id(source), node_id(target), relation)
    return (*edge, "recreated") if recreated else edge
