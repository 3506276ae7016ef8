"""The instance at a glance: counts, and the choices the runs page offers as filters."""

from __future__ import annotations

from typing import Any

from lineage.ui.read.values import flatten

#: Most transform keys offered in the transform filter.
MAX_TRANSFORM_KEYS = 500
#: How many recent runs are sampled for param names to suggest.
PARAM_SAMPLE = 200


def instance_summary() -> dict[str, Any]:
    """Backend, counts, and the filter choices of `facets`."""
    from lineage.instance import current_instance

    instance = current_instance()
    db = instance.db
    counts = db.query(
        "SELECT (SELECT COUNT(*) FROM transform), (SELECT COUNT(*) FROM run), "
        "(SELECT COUNT(*) FROM artifact WHERE NOT storage_ongoing), "
        "(SELECT COUNT(*) FROM project)")[0]
    transforms, runs, artifacts, projects = (int(c) for c in counts)
    return {
        "instance": instance.slug, "uid": instance.uid,
        "backend": "SQLite" if db.is_sqlite else "PostgreSQL",
        "storage": str(instance.storage_root),
        "counts": {"transforms": transforms, "runs": runs, "artifacts": artifacts,
                   "projects": projects},
        **facets(),
    }


def facets() -> dict[str, Any]:
    """What the runs page offers as filters: statuses, transform keys, projects, features,
    and param names seen in the most recent runs (a few index lookups, no scans)."""
    from lineage.db.record import current_db
    from lineage.models.run import STATUSES

    db = current_db()

    def work(conn: Any) -> dict[str, Any]:
        keys = [r[0] for r in conn.fetchall(
            f"SELECT key FROM transform GROUP BY key ORDER BY key LIMIT {MAX_TRANSFORM_KEYS}")]
        projects = conn.fetchall("SELECT uid, name FROM project ORDER BY name")
        features = conn.fetchall("SELECT name, dtype FROM feature ORDER BY name")
        params = conn.fetchall(
            f"SELECT params FROM run ORDER BY started_at DESC LIMIT {PARAM_SAMPLE}")
        return {"keys": keys, "projects": projects, "features": features, "params": params}

    data = db.read(work)
    names: set[str] = set()
    for (raw,) in data["params"]:
        names.update(flatten(db.dialect.decode("json", raw) or {}))
    return {
        "statuses": list(STATUSES),
        "transform_keys": data["keys"],
        "projects": [{"uid": uid, "name": name} for uid, name in data["projects"]],
        "features": [{"name": name, "dtype": dtype} for name, dtype in data["features"]],
        "param_names": sorted(names),
    }
