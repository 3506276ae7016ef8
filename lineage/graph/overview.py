"""`ln.view()`: an overview of the current instance as rich tables.

Counts, then the most recent transforms (with their run counts), runs (with
their input and output counts) and artifacts (with the run that made them).
Five queries whatever the size of the instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["view"]

_TRANSFORMS = """
SELECT t.key, t.version, t.kind, t.uid, COUNT(r.id), MAX(r.started_at)
FROM transform t LEFT JOIN run r ON r.transform_id = t.id
GROUP BY t.id, t.key, t.version, t.kind, t.uid, t.created_at
ORDER BY COALESCE(MAX(r.started_at), t.created_at) DESC, t.id DESC
LIMIT ?
"""
_RUNS = """
SELECT r.uid, t.key, r.entrypoint, r.status, r.started_at, r.finished_at,
       (SELECT COUNT(*) FROM run_input i WHERE i.run_id = r.id),
       (SELECT COUNT(*) FROM artifact a WHERE a.run_id = r.id AND NOT a.storage_ongoing)
FROM run r JOIN transform t ON t.id = r.transform_id
ORDER BY r.started_at DESC, r.id DESC
LIMIT ?
"""
_ARTIFACTS = """
SELECT a.key, a.version, a.is_latest, a.size, a.uid, a.created_at, t.key, r.entrypoint, r.uid
FROM artifact a LEFT JOIN run r ON r.id = a.run_id LEFT JOIN transform t ON t.id = r.transform_id
WHERE NOT a.storage_ongoing
ORDER BY a.created_at DESC, a.id DESC
LIMIT ?
"""
_COUNTS = """
SELECT (SELECT COUNT(*) FROM transform), (SELECT COUNT(*) FROM run),
       (SELECT COUNT(*) FROM artifact WHERE NOT storage_ongoing), (SELECT COUNT(*) FROM project)
"""


def view(limit: int = 10, console: Console | None = None) -> None:
    """Print an overview of the current instance.

    Args:
        limit: How many recent transforms, runs and artifacts to list.
        console: Where to print (default: standard output, with no width
            limit when it is not a terminal, so no value is cut or folded).
    """
    from lineage.graph.describe import stdout_console
    from lineage.instance import current_instance

    instance = current_instance()
    db = instance.db
    data = db.read(lambda conn: {
        "counts": conn.fetchone(_COUNTS),
        "transforms": conn.fetchall(_TRANSFORMS, [limit]),
        "runs": conn.fetchall(_RUNS, [limit]),
        "artifacts": conn.fetchall(_ARTIFACTS, [limit]),
    })
    if console is None:
        console = stdout_console(soft_wrap=False)
    n_transforms, n_runs, n_artifacts, n_projects = data["counts"]
    backend = "SQLite" if db.is_sqlite else "PostgreSQL"
    console.print(f"[bold]Instance[/] {_e(instance.slug)} ({backend}, storage "
                  f"{_e(str(instance.storage_root))})")
    console.print(f"{n_transforms} transforms · {n_runs} runs · {n_artifacts} artifacts · "
                  f"{n_projects} projects")
    for table in (_transform_table(data["transforms"], db.dialect),
                  _run_table(data["runs"], db.dialect),
                  _artifact_table(data["artifacts"], db.dialect)):
        console.print(table)


def _transform_table(rows: list[tuple], dialect: Any) -> Any:
    from rich.table import Table

    from lineage.graph.describe import when

    table = Table(title="Recent transforms", title_justify="left")
    for column in ("key", "version", "kind", "runs", "last run", "uid"):
        table.add_column(column, overflow="fold", no_wrap=column in ("uid", "last run"))
    for key, version, kind, uid, runs, last in rows:
        table.add_row(_e(key), f"v{version}", kind, str(runs),
                      when(dialect.decode("datetime", last)), uid)
    return table


def _run_table(rows: list[tuple], dialect: Any) -> Any:
    from rich.table import Table

    from lineage.graph.describe import duration, status, when

    table = Table(title="Recent runs", title_justify="left")
    columns = ("uid", "transform", "entrypoint", "status", "started", "took", "inputs", "outputs")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("uid", "started", "status"))
    for uid, key, entrypoint, state, started, finished, n_in, n_out in rows:
        started = dialect.decode("datetime", started)
        finished = dialect.decode("datetime", finished)
        took = duration(_Timing(started, finished))
        table.add_row(uid, _e(key), _e(entrypoint or ""), status(state), when(started), took,
                      str(n_in), str(n_out))
    return table


def _artifact_table(rows: list[tuple], dialect: Any) -> Any:
    from rich.table import Table

    from lineage.graph.describe import human_size, when

    table = Table(title="Recent artifacts", title_justify="left")
    for column in ("key", "version", "size", "created by", "created", "uid"):
        table.add_column(column, overflow="fold", no_wrap=column in ("uid", "created"))
    for key, version, latest, size, uid, created, t_key, entrypoint, run_uid in rows:
        latest = dialect.decode("bool", latest)
        maker = " · ".join(_e(p) for p in (t_key, entrypoint) if p) if run_uid else "-"
        table.add_row(_e(key or "(no key)"), f"v{version}" + ("" if latest else " (old)"),
                      human_size(size), maker, when(dialect.decode("datetime", created)), uid)
    return table


class _Timing:
    """The two attributes `lineage.graph.describe.duration` reads."""

    def __init__(self, started_at: Any, finished_at: Any) -> None:
        self.started_at = started_at
        self.finished_at = finished_at


def _e(text: str) -> str:
    from rich.markup import escape

    return escape(text)
