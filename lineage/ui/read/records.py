"""One record at a time: what the run, transform, artifact and project pages show.

Everything is read through the records and their relations
(``run.input_artifacts``, ``artifact.versions``, ...); lists are cut at
`LIST_LIMIT` items and carry their full count.
"""

from __future__ import annotations

from typing import Any

from lineage.ui.read.values import flatten, iso, seconds_between

#: Most items of a related list (inputs, versions, runs, ...) one answer holds.
LIST_LIMIT = 100


def get_record(registry: str, uid: str) -> Any:
    """The record of `registry` with this uid (or unambiguous uid prefix).

    Raises:
        DoesNotExist: No such record.
    """
    from lineage.db.record import registry_class

    model = registry_class(registry)
    lookup = {"uid": uid} if len(uid) >= model.uid_length else {"uid__startswith": uid}
    return model.objects_unhidden().filter(**lookup).get_one(lookup)


# --- summaries (one line of a list) ------------------------------------------------
def run_summary(run: Any, transform: Any = None) -> dict[str, Any]:
    """The few fields a list of runs shows."""
    transform = transform if transform is not None else run.transform
    out = {
        "uid": run.uid, "status": run.status, "entrypoint": run.entrypoint, "name": run.name,
        "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
        "duration_s": seconds_between(run.started_at, run.finished_at),
        "transform": None if transform is None else {
            "uid": transform.uid, "key": transform.key, "version": transform.version,
            "version_tag": transform.version_tag},
    }
    if hasattr(run, "attempt"):
        out["attempt"] = run.attempt
    return out


def artifact_summary(artifact: Any) -> dict[str, Any]:
    """The few fields a list of artifacts shows."""
    return {
        "uid": artifact.uid, "key": artifact.key, "version": artifact.version,
        "is_latest": artifact.is_latest, "size": artifact.size, "suffix": artifact.suffix,
        "kind": artifact.kind, "created_at": iso(artifact.created_at),
        "description": artifact.description,
    }


def limited(query: Any, line: Any, order: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """``{"total": n, "items": [...]}`` for at most `LIST_LIMIT` records of `query`."""
    items = query.order_by(*order)[:LIST_LIMIT + 1].all()
    total = len(items) if len(items) <= LIST_LIMIT else query.count()
    return {"total": total, "items": [line(r) for r in items[:LIST_LIMIT]]}


def _runs_with_transforms(query: Any, order: tuple[str, ...]) -> dict[str, Any]:
    """Like `limited` for runs, fetching their transforms in one query."""
    from lineage.models.transform import Transform

    runs = query.order_by(*order)[:LIST_LIMIT + 1].all()
    total = len(runs) if len(runs) <= LIST_LIMIT else query.count()
    runs = runs[:LIST_LIMIT]
    transforms = {t.id: t for t in Transform.filter(id__in=sorted({r.transform_id for r in runs}))}
    return {"total": total,
            "items": [run_summary(r, transforms.get(r.transform_id)) for r in runs]}


# --- pages -------------------------------------------------------------------------------
def run_detail(run: Any) -> dict[str, Any]:
    """Everything the run page shows."""
    transform = run.transform
    env = run.environment
    parent = run.initiated_by_run
    report = run.report
    out = run_summary(run, transform)
    out.update({
        "transform": {"uid": transform.uid, "key": transform.key, "version": transform.version,
                      "version_tag": transform.version_tag,
                      "kind": transform.kind},
        "params": run.params or {}, "params_flat": flatten(run.params or {}),
        "cli_args": run.cli_args, "features": run.features.get_values(),
        "git": run.git, "error": run.error, "external_source": run.external_source,
        "external_id": run.external_id, "pid": run.pid, "host": run.host,
        "environment": None if env is None else environment_detail(env),
        "initiated_by": None if parent is None else run_summary(parent),
        "report": None if report is None else artifact_summary(report),
        "inputs": limited(run.input_artifacts, artifact_summary),
        "outputs": limited(run.output_artifacts, artifact_summary),
        "recreated": limited(run.recreated_artifacts, artifact_summary),
        "initiated_runs": _runs_with_transforms(run.initiated_runs, ("started_at", "id")),
        "projects": [project_summary(p) for p in run.projects.order_by("name")],
    })
    _engine_fields(run, out)
    return out


def _engine_fields(run: Any, out: dict[str, Any]) -> None:
    """Fields of engine runs (attempts, details, run -> run edges), where the schema has them."""
    if "details" in run.fields:
        out["details"] = run.details
    relations = type(run).relations
    for name in ("upstream_runs", "downstream_runs"):
        if name in relations:
            out[name] = _runs_with_transforms(getattr(run, name), ("started_at", "id"))
    if "attempt" in run.fields and run.external_id is not None:
        out["attempts"] = _runs_with_transforms(run.attempts, ("attempt", "id"))


def environment_detail(env: Any) -> dict[str, Any]:
    """An environment with its packages."""
    return {"uid": env.uid, "python_version": env.python_version, "platform": env.platform,
            "host": env.host or {}, "packages": env.packages or {}}


def transform_detail(transform: Any) -> dict[str, Any]:
    """Everything the transform page shows (the source as stored)."""
    from lineage.db.record import current_db

    versions = transform.versions.all()
    counts = dict(current_db().query(
        "SELECT transform_id, COUNT(*) FROM run WHERE transform_id IN "
        f"({', '.join('?' for _ in versions)}) GROUP BY transform_id", [v.id for v in versions]))
    return {
        "uid": transform.uid, "key": transform.key, "version": transform.version,
        "version_tag": transform.version_tag, "kind": transform.kind,
        "description": transform.description, "reference": transform.reference, "hash": transform.hash,
        "is_latest": transform.is_latest, "created_at": iso(transform.created_at),
        "source_code": transform.source_code,
        "versions": [{"uid": v.uid, "version": v.version, "version_tag": v.version_tag,
                      "is_latest": v.is_latest,
                      "created_at": iso(v.created_at), "hash": v.hash,
                      "runs": int(counts.get(v.id, 0))} for v in versions],
        "runs": _runs_with_transforms(transform.runs, ("-started_at", "-id")),
        "projects": [project_summary(p) for p in transform.projects.order_by("name")],
    }


def artifact_detail(artifact: Any) -> dict[str, Any]:
    """Everything the artifact page shows."""
    storage = artifact.storage
    run = artifact.run
    out = artifact_summary(artifact)
    out.update({
        "hash": artifact.hash, "hash_type": artifact.hash_type, "n_files": artifact.n_files,
        "otype": artifact.otype, "storage_ongoing": artifact.storage_ongoing,
        "updated_at": iso(artifact.updated_at),
        "storage": None if storage is None else {"root": storage.root, "type": storage.type},
        "object_key": artifact.object_key,
        "run": None if run is None else run_summary(run),
        "previous_runs": _runs_with_transforms(artifact.previous_runs, ("started_at", "id")),
        "input_of_runs": _runs_with_transforms(artifact.input_of_runs, ("-started_at", "-id")),
        "versions": limited(artifact.versions, artifact_summary, ("-version",)),
        "projects": [project_summary(p) for p in artifact.projects.order_by("name")],
        "labels": [{"uid": label.uid, "name": label.name} for label in artifact.labels],
    })
    return out


def project_summary(project: Any) -> dict[str, Any]:
    """A project's uid, name and description."""
    return {"uid": project.uid, "name": project.name, "description": project.description,
            "created_at": iso(project.created_at)}


def project_detail(project: Any) -> dict[str, Any]:
    """A project with its transforms, recent runs and artifacts."""
    out = project_summary(project)
    out.update({
        "transforms": limited(project.transforms, lambda t: {
            "uid": t.uid, "key": t.key, "version": t.version, "version_tag": t.version_tag,
            "kind": t.kind}, ("key", "version")),
        "runs": _runs_with_transforms(project.runs, ("-started_at", "-id")),
        "artifacts": limited(project.artifacts, artifact_summary, ("-created_at", "-id")),
    })
    return out


def projects_list() -> list[dict[str, Any]]:
    """Every project with its counts of transforms, runs and artifacts."""
    from lineage.db.record import current_db
    from lineage.models.project import Project

    counts = {row[0]: row[1:] for row in current_db().query(
        "SELECT p.id, (SELECT COUNT(*) FROM project_transform x WHERE x.project_id = p.id), "
        "(SELECT COUNT(*) FROM project_run x WHERE x.project_id = p.id), "
        "(SELECT COUNT(*) FROM project_artifact x WHERE x.project_id = p.id) FROM project p")}
    out = []
    for project in Project.filter().order_by("name"):
        n_transforms, n_runs, n_artifacts = counts.get(project.id, (0, 0, 0))
        out.append({**project_summary(project), "transforms": int(n_transforms),
                    "runs": int(n_runs), "artifacts": int(n_artifacts)})
    return out
