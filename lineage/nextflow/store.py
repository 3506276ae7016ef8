"""``lineage nextflow import .lineage/``: Nextflow's lineage store (Nextflow 25.04+).

Nextflow writes one JSON record per lineage id (LID, ``lid://<key>``) as
``<store>/[.meta/]<key>/.data.json``: ``{"version": "lineage/v1beta1",
"kind": ..., "spec": {...}}``, or, in the older layout, the record itself
with its ``type``. The kinds read here:

* ``WorkflowRun`` (key: a hash): ``workflow`` (``scriptFiles``,
  ``repository``, ``commitId``), ``sessionId``, ``name``, ``params`` (a list
  of ``{type, name, value}``), ``config``;
* ``TaskRun`` (key: the task hash): ``sessionId``, ``name``,
  ``codeChecksum``, ``script``, ``input`` (parameters whose ``path`` values
  are LIDs of files or ``{path, checksum}``), ``container``, ``conda``,
  ``spack``, ``architecture``, ``globalVars``, ``binEntries``, ``workflowRun``;
* ``TaskOutput`` / ``TaskOutputs`` (key ``<task hash>#output``), and
  ``FileOutput`` / ``DataOutput`` (key ``<task or workflow hash>/<path>``):
  ``path``, ``checksum``, ``source``, ``workflowRun``, ``taskRun``, ``size``,
  ``createdAt``.

Other kinds (``WorkflowOutput``, ...) add nothing lineage records. Every
record is read and checked before anything is written. Task inputs and
outputs that exist here become artifacts, hashed by lineage (Nextflow's
checksums use an algorithm of its own); a published copy of a task output
is the same content, so the same artifact. Importing again changes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from lineage.nextflow import fields

if TYPE_CHECKING:
    from lineage.models.run import Run
    from lineage.nextflow.trace import Summary

DATA_FILE = ".data.json"
LID = "lid://"
#: Kinds of records, older names mapped to the current ones.
KINDS = {"WorkflowRun": "WorkflowRun", "WorkflowLaunch": "WorkflowRun", "TaskRun": "TaskRun",
         "TaskOutput": "TaskOutput", "TaskOutputs": "TaskOutput", "FileOutput": "FileOutput",
         "DataOutput": "FileOutput"}


@dataclass
class Store:
    """The records of a lineage store, by key (``lid://`` left off)."""

    root: Path
    records: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    started: dict[str, datetime] = field(default_factory=dict)
    other: int = 0

    def of_kind(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, (found, spec) in sorted(self.records.items()):
            if found == kind:
                yield key, spec

    def get(self, lid: Any, kind: str) -> dict[str, Any] | None:
        record = self.records.get(_key(lid)) if isinstance(lid, str) else None
        return record[1] if record is not None and record[0] == kind else None


def _key(lid: str) -> str:
    return lid[len(LID):] if lid.startswith(LID) else lid


def decode(path: Path) -> tuple[str, dict[str, Any]] | None:
    """(kind, fields) of one ``.data.json`` in either layout; None for kinds not read here.

    Raises:
        ValidationError: Not JSON, or not a lineage record.
    """
    from lineage.errors import ValidationError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"{path} is not a Nextflow lineage record (not JSON: {exc}).") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path} is not a Nextflow lineage record (not a JSON object).")
    if isinstance(data.get("spec"), dict):  # lineage/v1beta1 and later: {version, kind, spec}
        kind, spec = data.get("kind"), data["spec"]
        version = data.get("version")
        if not (isinstance(version, str) and version.startswith("lineage/")):
            raise ValidationError(f"{path}: unknown lineage record version {version!r} "
                                  "(expected lineage/v1beta1).")
    else:
        kind, spec = data.get("type") or data.get("kind"), data
    if not isinstance(kind, str):
        raise ValidationError(f"{path} is not a Nextflow lineage record (no 'kind' or 'type').")
    return (KINDS[kind], spec) if kind in KINDS else None


def read_store(root: str | os.PathLike[str]) -> Store:
    """Every record under `root`, checked (see the module docstring).

    Raises:
        ValidationError: `root` holds no record, a record is malformed, or a
            task names a workflow run the store does not hold.
    """
    from lineage.errors import ValidationError

    store = Store(Path(root))
    base = store.root / ".meta" if (store.root / ".meta").is_dir() else store.root
    for path in sorted(base.rglob(DATA_FILE)):
        key = path.parent.relative_to(base).as_posix()
        decoded = decode(path)
        if decoded is None:
            store.other += 1
        else:
            store.records[key] = decoded
    if not store.records and not store.other:
        raise ValidationError(
            f"{store.root} holds no Nextflow lineage record (<key>/{DATA_FILE}); point at the "
            "folder of lineage.store.location (.lineage by default) of a run with "
            "lineage.enabled = true.")
    for key, spec in store.of_kind("WorkflowRun"):
        if "launch" in spec and "sessionId" not in spec:
            continue  # the end of a launch (its status), read with the launch
        for name in ("name", "sessionId"):
            if not isinstance(spec.get(name), str):
                raise ValidationError(f"workflow run lid://{key}: {name!r} is missing.")
    for key, spec in store.of_kind("TaskRun"):
        if not isinstance(spec.get("name"), str):
            raise ValidationError(f"task run lid://{key}: 'name' is missing.")
        if _workflow_key(store, spec.get("workflowRun")) is None:
            raise ValidationError(
                f"task run lid://{key} belongs to {spec.get('workflowRun')!r}, which is not in "
                f"{store.root}: import the whole store.")
    history = base / ".history"
    if history.is_file():
        for line in history.read_text(encoding="utf-8", errors="replace").splitlines():
            cols = line.split("\t")
            if len(cols) == 4 and cols[3].startswith(LID):
                try:
                    store.started[_key(cols[3])] = fields.timestamp(cols[0])
                except ValueError:
                    pass
    return store


def _workflow_key(store: Store, lid: Any) -> str | None:
    """The key of the workflow run (or launch) a ``workflowRun`` LID names."""
    spec = store.get(lid, "WorkflowRun")
    if spec is None:
        return None
    if "launch" in spec and "sessionId" not in spec:
        return _workflow_key(store, spec["launch"])
    return _key(lid)


_STATUSES = {"SUCCEEDED": "completed", "FAILED": "errored", "CANCELLED": "aborted"}


def import_store(root: str | os.PathLike[str]) -> Summary:
    """Record a lineage store: workflow runs, task runs, their files (idempotent)."""
    import lineage as ln
    from lineage.nextflow import record
    from lineage.nextflow.trace import Summary

    store = read_store(root)
    before = ln.Run.filter(external_source=record.SOURCE).count()
    workflows = {key: _workflow_run(store, key, spec) for key, spec in store.of_kind("WorkflowRun")
                 if not ("launch" in spec and "sessionId" not in spec)}
    tasks: dict[str, Run] = {}
    for key, spec in store.of_kind("TaskRun"):
        parent = workflows[_workflow_key(store, spec["workflowRun"])]
        tasks[key] = _task_run(store, key, spec, parent)
    files = _record_files(store, workflows, tasks)
    created = ln.Run.filter(external_source=record.SOURCE).count() - before
    last = list(workflows.values())[-1] if workflows else None
    if last is None:
        from lineage.errors import ValidationError

        raise ValidationError(f"{store.root} holds no WorkflowRun record.")
    return Summary(ln.Run.get(last.uid), len(tasks), created, files, len(workflows))


def _workflow_run(store: Store, key: str, spec: dict[str, Any]) -> Run:
    from lineage.nextflow import record

    info = spec.get("workflow") if isinstance(spec.get("workflow"), dict) else {}
    scripts = [item.get("path") for item in info.get("scriptFiles") or []
               if isinstance(item, dict) and isinstance(item.get("path"), str)]
    main = _local(store, scripts[0]) if scripts else None
    status = "completed"  # the store keeps no workflow status; a launch's end record does
    for _, end in store.of_kind("WorkflowRun"):
        if end.get("launch") in (f"{LID}{key}", key) and end.get("status") in _STATUSES:
            status = _STATUSES[end["status"]]
    details = {"lid": f"{LID}{key}", "config": spec.get("config"),
               "metadata": spec.get("metadata"), "script_files": scripts or None}
    workflow = record.Workflow(
        run_name=spec["name"], session_id=spec["sessionId"],
        script_file=str(main) if main else (scripts[0] if scripts else None),
        script_name=Path(urlsplit(scripts[0]).path).name if scripts else None,
        repository=info.get("repository"), commit_id=info.get("commitId"),
        params=_parameters(spec.get("params")),
        details={k: v for k, v in details.items() if v is not None})
    return record.workflow_run(workflow, status=status, started_at=store.started.get(key),
                               error="Nextflow's lineage store records the workflow as failed."
                               if status == "errored" else None)


def _parameters(items: Any) -> dict[str, Any] | None:
    """``[{type, name, value}, ...]`` -> ``{name: value}``."""
    if not isinstance(items, list):
        return items if isinstance(items, dict) else None
    return {item["name"]: item.get("value") for item in items
            if isinstance(item, dict) and isinstance(item.get("name"), str)}


def _task_run(store: Store, key: str, spec: dict[str, Any], parent: Run) -> Run:
    from lineage.nextflow import record

    checksum = spec.get("codeChecksum")
    outputs = [f for _, f in store.of_kind("FileOutput") if _key(str(f.get("taskRun"))) == key]
    created = [t for t in (fields.timestamp(f.get("createdAt")) for f in outputs
                           if isinstance(f.get("createdAt"), str)) if t is not None]
    trace = {
        "name": spec["name"], "process": spec["name"].split(" (")[0],
        "hash": f"{key[:2]}/{key[2:8]}" if len(key) >= 8 else key, "status": "COMPLETED",
        "complete": max(created) if created else None,
    }
    extra = {
        "lid": f"{LID}{key}", "full_hash": key, "script": spec.get("script"),
        "container": spec.get("container"), "conda": spec.get("conda"), "spack": spec.get("spack"),
        "architecture": spec.get("architecture"), "env_modules": spec.get("envModule"),
        "global_vars": spec.get("globalVars") or None, "session_id": spec.get("sessionId"),
        "code_checksum": checksum.get("value") if isinstance(checksum, dict) else checksum,
        "bin_entries": [b.get("path") for b in spec.get("binEntries") or []
                        if isinstance(b, dict)] or None,
    }
    params = {item["name"]: item.get("value") for item in spec.get("input") or []
              if isinstance(item, dict) and isinstance(item.get("name"), str)
              and item.get("type") != "path"}
    return record.task_run(parent, fields.normalize(trace), default_status="completed",
                           params=params or None,
                           extra={k: v for k, v in extra.items() if v is not None})


def _record_files(store: Store, workflows: dict[str, Run], tasks: dict[str, Run]) -> int:
    """Task outputs, published files and task inputs as artifacts; how many artifacts."""
    from lineage import lifecycle

    done: set[tuple[int, str, str]] = set()
    artifacts: set[int] = set()

    def add(run: Run, location: Path | None, role: str, key: str | None = None) -> None:
        if location is None or (run.id, str(location), role) in done:
            return
        done.add((run.id, str(location), role))
        artifact = lifecycle.record_file(run, location, role=role,  # type: ignore[arg-type]
                                         key=key)
        if artifact is not None:
            artifacts.add(artifact.id)

    # published files first: a new artifact gets the file's path in the output folder as
    # its key (the task's own copy in its work folder is the same content, so the same one)
    outputs = sorted(store.of_kind("FileOutput"), key=lambda item: bool(item[1].get("taskRun")))
    for key, spec in outputs:
        published = not spec.get("taskRun") and "/" in key
        owner = _producing_task(store, spec)
        run = tasks.get(owner) if owner else workflows.get(
            _workflow_key(store, spec.get("workflowRun")) or "")
        if run is not None:
            add(run, _local(store, spec.get("path")), "output",
                key.split("/", 1)[1] if published else None)
    for key, spec in store.of_kind("TaskRun"):
        for item in spec.get("input") or []:
            if not isinstance(item, dict) or item.get("type") != "path":
                continue
            values = item.get("value")
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and value.startswith(LID):
                    source = store.get(value, "FileOutput")
                    add(tasks[key], _local(store, source.get("path")) if source else None, "input")
                elif isinstance(value, dict):
                    add(tasks[key], _local(store, value.get("path")), "input")
                elif isinstance(value, str):
                    add(tasks[key], _local(store, value), "input")
    return len(artifacts)


def _producing_task(store: Store, spec: dict[str, Any], depth: int = 0) -> str | None:
    """The task that made a file: its ``taskRun``, else the task of the file it was published from."""
    if spec.get("taskRun"):
        return _key(str(spec["taskRun"]))
    source = store.get(spec.get("source"), "FileOutput")
    if source is not None and depth < 10:
        return _producing_task(store, source, depth + 1)
    return None


def _local(store: Store, path: Any) -> Path | None:
    """A file of a record as a path here: ``file://`` URIs and absolute paths, else relative to
    the folder the store lives in (Nextflow shortens paths under the launch folder)."""
    if not isinstance(path, str) or not path:
        return None
    parts = urlsplit(path)
    if parts.scheme not in ("", "file"):
        return None  # s3://, gs://, ...: not readable here
    local = Path(unquote(parts.path) if parts.scheme == "file" else path)
    if local.exists():
        return local
    relative = store.root.resolve().parent / str(local).lstrip("/")
    return relative if relative.exists() else None
