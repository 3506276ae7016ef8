"""Closing an instance while another thread writes, and with engine runs still waiting.

`Database.close` used to close every thread's connection at once: a
background writer in the middle of a batch then ran its next statement on
a closed connection (SQLite: a crash of the whole process when the close
lands inside a statement). Here the writer is a real thread holding a real
transaction open while the main thread closes the instance.
"""

from __future__ import annotations

import sqlite3
import threading

import lineage as ln
from lineage import lifecycle
from lineage.instance import current_instance


def _run_count(path) -> int:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT count(*) FROM run").fetchone()[0]


def test_a_transaction_of_another_thread_finishes_on_its_connection_after_close(instance):
    db = current_instance().db
    inside, closed = threading.Event(), threading.Event()
    outcome: list[object] = []

    db.write(lambda conn: conn.execute("CREATE TABLE close_probe (n INTEGER NOT NULL)"))

    def work(conn) -> int:
        conn.execute("INSERT INTO close_probe (n) VALUES (1)")
        inside.set()
        assert closed.wait(10)
        conn.execute("INSERT INTO close_probe (n) VALUES (2)")
        return conn.scalar("SELECT count(*) FROM close_probe")

    def writer() -> None:
        try:
            outcome.append(db.write(work))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    db.close()  # the writer's transaction is open
    closed.set()
    thread.join(10)
    assert outcome == [2]
    assert db._all == [] and db._busy == set() and db._doomed == set()
    # The next use opens a new connection and sees both rows, committed.
    assert db.read(lambda conn: conn.fetchall("SELECT n FROM close_probe ORDER BY n")) == [(1,), (2,)]
    db.write(lambda conn: conn.execute("DROP TABLE close_probe"))


def test_a_connection_not_in_use_is_closed_at_once_and_replaced(sqlite_instance):
    db = sqlite_instance.db
    ln.Project(name="before").save()
    old = db.connection().raw
    db.close()
    try:
        old.execute("SELECT 1")
        still_open = True
    except sqlite3.ProgrammingError:
        still_open = False
    assert not still_open
    ln.Project(name="after").save()
    assert db.connection().raw is not old
    assert sorted(p.name for p in ln.Project.filter()) == ["after", "before"]


def test_closing_writes_the_engine_runs_that_wait_for_their_batch(sqlite_instance):
    def task() -> None: ...

    source = lifecycle.function_transform(task, "prefect")
    waiting = lifecycle.engine_run(source.transform, external_source="prefect",
                                   external_id="close-1", defer=True)
    open_one = lifecycle.engine_run(source.transform, external_source="prefect",
                                    external_id="close-2", defer=True)
    lifecycle.finish_run(waiting, "completed")
    path = sqlite_instance.db.sqlite_path
    assert _run_count(path) == 0  # both wait: one for its batch, one for its end
    sqlite_instance.close()
    with sqlite3.connect(path) as raw:
        rows = dict(raw.execute("SELECT external_id, status FROM run").fetchall())
    assert rows == {"close-1": "completed", "close-2": "started"}
    lifecycle.finish_run(open_one, "completed")  # the open one ends on a new connection
    assert ln.Run.get(external_id="close-2").status == "completed"
