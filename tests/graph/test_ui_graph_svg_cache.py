"""The UI's lineage graph answers: kept per query until the store changes, never stale.

Graphs are built from the real store (SQLite and PostgreSQL); writes come
from this process (other connections), from a rolled-back transaction and
from another process writing with its own driver. Counting wrappers call
the real functions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from lineage.db.record import current_db

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (dot)")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Calls of graph building and of ``dot`` layouts, with every kept answer forgotten."""
    from lineage.ui import drawings, graph_view

    graph_view.GRAPHS.clear()
    monkeypatch.setattr(drawings, "_MEMORY", type(drawings._MEMORY)())
    calls: dict[str, list[Any]] = {"build": [], "layout": []}
    real_build, real_layout = graph_view.build, drawings.layout

    def build(query: Any) -> Any:
        calls["build"].append(query)
        return real_build(query)

    def layout(source: str) -> str:
        calls["layout"].append(source)
        return real_layout(source)

    monkeypatch.setattr(graph_view, "build", build)
    monkeypatch.setattr(drawings, "layout", layout)
    return calls


def _graph(uid: str, **options: Any) -> dict[str, Any]:
    from lineage.ui.graph_view import GraphQuery, graph_json

    return json.loads(graph_json(GraphQuery(uid, **options)))


def _statuses(graph: dict[str, Any]) -> dict[str, str]:
    return {n["uid"]: n["status"] for n in graph["nodes"] if n["kind"] == "run"}


def test_a_repeated_query_is_answered_from_memory_until_a_write(lin: Any, backend: str,
                                                               counted: dict) -> None:
    raw = lin.artifact("raw.csv")
    first = _graph(raw.uid)
    assert _graph(raw.uid) == first
    if backend == "sqlite":  # PostgreSQL's stamp counts writes of the whole server (other tests)
        assert len(counted["build"]) == 1

    run = lin.run("clean.py", inputs=(raw,))  # a write: the next answer is built anew
    after = _graph(raw.uid)
    assert f"run:{run.uid}" in {n["id"] for n in after["nodes"]}
    assert len(counted["build"]) >= 2


def test_an_update_that_adds_no_row_is_seen(lin: Any, counted: dict) -> None:
    from graph_helpers import force_save

    raw = lin.artifact("raw.csv")
    run = lin.run("clean.py", inputs=(raw,), status="started")
    assert _statuses(_graph(raw.uid))[run.uid] == "started"
    force_save(run, status="completed")  # same row counts and ids: only the stamp tells
    assert _statuses(_graph(raw.uid))[run.uid] == "completed"


def test_a_rolled_back_write_changes_nothing_shown(lin: Any, counted: dict) -> None:
    raw = lin.artifact("raw.csv")
    run = lin.run("clean.py", inputs=(raw,))
    before = _graph(raw.uid)

    def fail(conn: Any) -> None:
        conn.execute("UPDATE run SET status = 'errored' WHERE id = ?", [run.id])
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        current_db().write(fail)
    assert _graph(raw.uid) == before


def test_a_write_by_another_process_is_seen(lin: Any, backend: str, counted: dict) -> None:
    raw = lin.artifact("raw.csv")
    run = lin.run("clean.py", inputs=(raw,))
    assert _statuses(_graph(raw.uid))[run.uid] == "completed"
    db = current_db()
    if backend == "sqlite":
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute(\"UPDATE run SET status = 'errored' WHERE uid = ?\", [sys.argv[2]]); "
                "c.commit()")
        target = str(db.sqlite_path)
    else:
        code = ("import psycopg, sys; c = psycopg.connect(sys.argv[1], autocommit=True); "
                "c.execute(\"UPDATE run SET status = 'errored' WHERE uid = %s\", [sys.argv[2]])")
        target = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
    subprocess.run([sys.executable, "-c", code, target, run.uid], check=True)
    assert _statuses(_graph(raw.uid))[run.uid] == "errored"


def test_options_are_part_of_the_kept_query(lin: Any, counted: dict) -> None:
    raw = lin.artifact("raw.csv")
    run = lin.run("clean.py", inputs=(raw,))
    lin.artifact("clean.csv", run=run)
    assert len(_graph(raw.uid, up=0, down=1)["nodes"]) == 2
    assert len(_graph(raw.uid, up=0, down=2)["nodes"]) == 3


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_write_stamp_moves_with_writes_only(lin: Any) -> None:
    from lineage.ui.read.stamp import write_stamp

    db = current_db()
    lin.artifact("raw.csv")
    stamp = write_stamp(db)
    db.read(lambda conn: conn.fetchall("SELECT * FROM run"))
    assert write_stamp(db) == stamp
    lin.artifact("other.csv")  # committed on this thread's connection, not the stamp's
    assert write_stamp(db) != stamp


@needs_dot
def test_svg_is_laid_out_once_per_drawing_and_redrawn_when_the_lineage_changes(
        lin: Any, counted: dict) -> None:
    from lineage.ui.graph_view import GraphQuery, graph_svg

    raw = lin.artifact("raw.csv")
    first = graph_svg(GraphQuery(raw.uid))
    assert graph_svg(GraphQuery(raw.uid)) == first
    assert len(counted["layout"]) == 1

    lin.run("clean.py", inputs=(raw,))  # a new downstream run: a new drawing
    second = graph_svg(GraphQuery(raw.uid))
    assert len(counted["layout"]) == 2 and second != first and "clean.py" in second


@needs_dot
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_large_drawings_are_kept_on_disk(lin: Any, counted: dict,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from lineage.instance import current_instance
    from lineage.ui import drawings
    from lineage.ui.graph_view import GraphQuery, graph_svg

    monkeypatch.setattr(drawings, "DISK_MIN_CHARS", 0)
    raw = lin.artifact("raw.csv")
    first = graph_svg(GraphQuery(raw.uid))
    drawings.clear_memory()  # as after a restart of the server
    assert graph_svg(GraphQuery(raw.uid)) == first
    assert len(counted["layout"]) == 1
    assert len(list((current_instance().cache_dir / "ui-drawings").glob("*.svg"))) == 1
