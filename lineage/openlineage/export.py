"""Every run of an instance as OpenLineage events, streamed.

`iter_events` reads runs in id order, a batch at a time, with one query per
batch for each of transforms, inputs, outputs, parents and environments, so
memory stays flat however many runs there are (caches are bounded)::

    from lineage.openlineage.export import write_events
    with open("events.jsonl", "w") as out:
        write_events(out, since=datetime(2026, 12, 1))
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from lineage._version import __version__
from lineage.openlineage.events import OPENLINEAGE_SOURCE, job_of, run_events, run_uuid, unique

if TYPE_CHECKING:
    from lineage.instance import Instance
    from lineage.models.run import Run

#: Runs read per batch.
BATCH = 500
#: Entries kept per cache (transforms, parent runs, environments).
_CACHE_LIMIT = 4096
#: Job namespace when none is configured.
DEFAULT_NAMESPACE = "lineage"

_ARTIFACT_COLUMNS = ("id", "uid", "key", "kind", "suffix", "size", "hash", "n_files",
                     "storage_id", "object_key")


def default_namespace(instance: Instance | None = None) -> str:
    """The job namespace: ``OPENLINEAGE_NAMESPACE``, else `DEFAULT_NAMESPACE`."""
    import os

    return os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE


def iter_events(*, since: datetime | None = None, run: str | None = None,
                namespace: str | None = None, include_source: bool = True,
                batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """The events of the runs started at or after `since` (or of run `run`), oldest run first.

    Args:
        since: Only runs started at or after this time.
        run: Only the run with this uid (or uid prefix, as `Run.get` takes it).
        namespace: Job namespace (default: `default_namespace`).
        include_source: Put each job's source code in a ``sourceCode`` facet.
        batch: Runs read per query.
    """
    from lineage.instance import current_instance
    from lineage.models.run import Run

    instance = current_instance()
    context = Batch(instance, namespace or default_namespace(instance), include_source)
    if run is not None:
        found = Run.get(run)
        context.load([found])
        yield from run_events(found, context)
        return
    last = 0
    while True:
        query = Run.filter(id__gt=last)
        if since is not None:
            query = query.filter(started_at__gte=since)
        runs = query.order_by("id")[:batch].all()
        if not runs:
            return
        context.load(runs)
        for item in runs:
            yield from run_events(item, context)
        last = runs[-1].id


def write_events(out: IO[str], **options: Any) -> int:
    """Write `iter_events` (same options) to `out` as JSON lines; returns how many."""
    count = 0
    for event in iter_events(**options):
        out.write(json.dumps(event, separators=(",", ":"), default=str))
        out.write("\n")
        count += 1
    return count


class Batch:
    """What the events of a batch of runs need, read in a few queries.

    Attributes:
        namespace: Job namespace of lineage's own runs.
        include_source: Whether jobs carry their source code.
    """

    def __init__(self, instance: Instance, namespace: str, include_source: bool = True) -> None:
        self.namespace = namespace
        self.include_source = include_source
        self._db = instance.db
        self._host = socket.gethostname()
        self._transforms: dict[int, dict[str, Any]] = {}
        self._runs: dict[int, tuple[str, dict[str, str], int | None]] = {}
        self._packages: dict[int, dict[str, str]] = {}
        self._storages: dict[int, tuple[str, str]] = {}
        self._inputs: dict[int, list[dict[str, Any]]] = {}
        self._outputs: dict[int, list[dict[str, Any]]] = {}

    # --- loading -----------------------------------------------------------------
    def load(self, runs: list[Run]) -> None:
        """Read what the events of `runs` need."""
        ids = [r.id for r in runs]
        self._load_transforms({r.transform_id for r in runs})
        self._load_artifacts(ids)
        self._load_runs({r.initiated_by_run_id for r in runs if r.initiated_by_run_id})
        self._load_packages({r.environment_id for r in runs
                             if r.environment_id and r.external_source})

    def _select(self, sql: str, column: str, ids: list[int]) -> list[tuple]:
        """Rows of `sql`, whose ``{ids}`` stands for "`column` is one of `ids`"."""
        from lineage.graph.query import ids_condition, ids_param

        dialect = self._db.dialect.name
        return self._db.query(sql.replace("{ids}", ids_condition(column, dialect)),
                              [ids_param(ids, dialect)])

    def _load_transforms(self, ids: set[int]) -> None:
        missing = sorted(i for i in ids if i not in self._transforms)
        if not missing:
            return
        _trim(self._transforms)
        for row in self._select("SELECT id, key, kind, source_code FROM transform WHERE {ids}",
                                "id", missing):
            self._transforms[row[0]] = {"key": row[1], "kind": row[2], "source_code": row[3]}

    def _load_artifacts(self, run_ids: list[int]) -> None:
        cols = ", ".join(f"a.{c}" for c in _ARTIFACT_COLUMNS)
        visible = "NOT a.storage_ongoing"
        from lineage.graph.query import ids_condition, ids_param

        self._inputs, self._outputs = {}, {}
        dialect = self._db.dialect.name
        sql = (f"SELECT 'o', a.run_id, {cols} FROM artifact a WHERE {visible} AND "
               f"{ids_condition('a.run_id', dialect)} "
               f"UNION ALL SELECT 'o', p.run_id, {cols} FROM artifact_previous_run p "
               f"JOIN artifact a ON a.id = p.artifact_id WHERE {visible} AND "
               f"{ids_condition('p.run_id', dialect)} "
               f"UNION ALL SELECT 'i', i.run_id, {cols} FROM run_input i "
               f"JOIN artifact a ON a.id = i.artifact_id WHERE {visible} AND "
               f"{ids_condition('i.run_id', dialect)} ORDER BY 3")
        storages: set[int] = set()
        for row in self._db.query(sql, [ids_param(run_ids, dialect)] * 3):
            artifact = dict(zip(_ARTIFACT_COLUMNS, row[2:]))
            target = self._outputs if row[0] == "o" else self._inputs
            target.setdefault(row[1], []).append(artifact)
            if artifact["storage_id"] is not None:
                storages.add(artifact["storage_id"])
        missing = sorted(s for s in storages if s not in self._storages)
        if missing:
            for sid, root, kind in self._select("SELECT id, root, type FROM storage WHERE {ids}",
                                                "id", missing):
                self._storages[sid] = (root, kind)

    def _load_runs(self, ids: set[int]) -> None:
        """Parents of the batch and their ancestors, up to the roots."""
        wanted = {i for i in ids if i not in self._runs}
        while wanted:
            _trim(self._runs)
            rows = self._select(
                "SELECT r.id, r.uid, r.external_source, r.external_id, r.entrypoint, "
                "r.initiated_by_run_id, r.details, t.key FROM run r "
                "JOIN transform t ON t.id = r.transform_id WHERE {ids}", "r.id", sorted(wanted))
            found = set()
            for rid, uid, source, external, entry, parent, details, key in rows:
                if isinstance(details, str):
                    details = json.loads(details)
                job = job_of(key, entry, details, self.namespace)
                self._runs[rid] = (run_uuid(uid, source, external), job, parent)
                found.add(rid)
            wanted = {self._runs[r][2] for r in found if self._runs[r][2]} - set(self._runs)

    def _load_packages(self, ids: set[int]) -> None:
        missing = sorted(i for i in ids if i not in self._packages)
        if not missing:
            return
        _trim(self._packages, 64)
        for eid, packages in self._select("SELECT id, packages FROM environment WHERE {ids}",
                                          "id", missing):
            if isinstance(packages, str):
                packages = json.loads(packages)
            self._packages[eid] = packages or {}

    # --- answers -----------------------------------------------------------------
    def transform(self, transform_id: int) -> dict[str, Any]:
        """``{"key", "kind", "source_code"}`` of a transform of the batch."""
        return self._transforms[transform_id]

    def inputs(self, run_id: int) -> list[dict[str, Any]]:
        """Artifact rows read by the run."""
        return unique(self._inputs.get(run_id, []))

    def outputs(self, run_id: int) -> list[dict[str, Any]]:
        """Artifact rows the run created (also those a later run re-created)."""
        return unique(self._outputs.get(run_id, []))

    def parent_facet(self, parent_id: int | None) -> dict[str, Any] | None:
        """The ``parent`` facet (with ``root``) for a run initiated by `parent_id`."""
        from lineage.openlineage.facets import facet

        if parent_id is None:
            return None
        if parent_id not in self._runs:
            self._load_runs({parent_id})
        if parent_id not in self._runs:
            return None
        run_id, job, up = self._runs[parent_id]
        root_id, root_job, seen = run_id, job, {parent_id}
        while up is not None and up not in seen:
            if up not in self._runs:
                self._load_runs({up})
                if up not in self._runs:
                    break
            seen.add(up)
            root_id, root_job, up = self._runs[up]
        return facet("parent", run={"runId": run_id}, job=dict(job),
                     root={"run": {"runId": root_id}, "job": dict(root_job)})

    def engine(self, run: Run) -> tuple[str, str]:
        """(name, version) of what executed the run: an engine, else lineage."""
        if run.external_source and run.external_source != OPENLINEAGE_SOURCE:
            packages = self._packages.get(run.environment_id or -1, {})
            return run.external_source, packages.get(run.external_source, "unknown")
        if run.external_source == OPENLINEAGE_SOURCE:
            engine = ((run.details or {}).get(OPENLINEAGE_SOURCE) or {}).get("engine") or {}
            if engine.get("version"):
                return engine.get("name") or OPENLINEAGE_SOURCE, engine["version"]
        return "lineage", __version__

    def dataset_name(self, artifact: dict[str, Any]) -> tuple[str, str]:
        """(namespace, name) of an artifact's dataset."""
        root, kind = self._storages.get(artifact["storage_id"] or -1, ("", "local"))
        if artifact.get("kind") == "reference":
            return root, artifact["object_key"] or artifact["uid"]
        if "://" in root:
            namespace = root.rstrip("/")
        else:
            namespace = f"file://{self._host}{root if root.startswith('/') else '/' + root}"
        return namespace, artifact["key"] or artifact["uid"]


def _trim(cache: dict[Any, Any], limit: int = _CACHE_LIMIT) -> None:
    """Drop the oldest half of `cache` once it holds `limit` entries."""
    if len(cache) >= limit:
        for key in list(cache)[: limit // 2]:
            del cache[key]
