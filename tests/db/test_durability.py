"""``ln.settings.durability``: SQLite's synchronous level, PostgreSQL's commit flush."""

from __future__ import annotations

import threading

import pytest
import sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "artifacts"))
from artifact_helpers import child_result, run_child  # noqa: E402

import lineage as ln
from lineage.errors import SettingsError


def _synchronous(instance) -> int:
    return instance.db.read(lambda c: c.scalar("PRAGMA synchronous"))


def test_default_is_wal_with_normal_synchronous(sqlite_instance):
    assert ln.settings.durability == "normal"
    assert _synchronous(sqlite_instance) == 1  # NORMAL


def test_full_applies_to_every_connection_and_persists(sqlite_instance):
    other_thread: list[int] = []
    ln.settings.durability = "full"
    assert _synchronous(sqlite_instance) == 2  # FULL
    worker = threading.Thread(target=lambda: other_thread.append(_synchronous(sqlite_instance)))
    worker.start()
    worker.join()
    assert other_thread == [2], "a connection opened later uses the setting too"
    proc = run_child(sqlite_instance, """
        import json, lineage as ln
        from lineage.instance import current_instance
        level = current_instance().db.read(lambda c: c.scalar("PRAGMA synchronous"))
        print("RESULT " + json.dumps({"setting": ln.settings.durability, "level": level}))
    """)
    assert child_result(proc) == {"setting": "full", "level": 2}
    ln.settings.durability = "normal"
    assert _synchronous(sqlite_instance) == 1


def test_bad_value_is_refused(instance):
    with pytest.raises(SettingsError, match="'durability': allowed values are 'normal' or 'full'"):
        ln.settings.durability = "paranoid"
    assert ln.settings.durability == "normal"


def test_full_makes_postgres_run_bookkeeping_wait_for_the_flush(instance):
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL commit setting")
    from lineage.lifecycle.runs import _relax_durability

    def level(conn) -> str:
        _relax_durability(conn)
        return conn.scalar("SHOW synchronous_commit")

    assert instance.db.write(level) == "off"
    ln.settings.durability = "full"
    assert instance.db.write(level) == "on"
