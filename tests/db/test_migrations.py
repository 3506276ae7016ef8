"""Each migration upgrades an instance that already holds data (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from migration_helpers import execute, migrate_to

NOW = "2026-11-30 10:00:00.000000+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path: Path) -> tuple[str, str]:
    """(database URL, what ln.connect takes) of an empty database."""
    if request.param == "sqlite":
        folder = tmp_path / "old"
        folder.mkdir()
        return f"sqlite:///{folder / 'lineage.db'}", str(folder)
    url = request.getfixturevalue("fresh_postgres_db")
    return url, url


def test_0002_adds_attempts_details_and_run_edges_to_existing_runs(empty_db):
    url, target = empty_db
    migrate_to(url, "0001")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO transform (uid, key, kind, version, is_latest, created_at) VALUES "
         "('t000000000000001', 'old.py', 'script', 1, :true, :now)", {"true": True, "now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at, external_id, external_source) "
         "VALUES ('r000000000000001', 1, 'completed', :now, 'ext-1', 'prefect')", {"now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at) "
         "VALUES ('r000000000000002', 1, 'errored', :now)", {"now": NOW}),
    ])
    ln.connect(target)
    old = ln.Run.get("r000000000000001")
    assert old.attempt == 1 and old.details is None and old.status == "completed"
    assert ln.Run.get("r000000000000002").attempt == 1
    # the upgraded instance works with the engine lifecycle: the old run is found again
    again = lifecycle.engine_run(old.transform_id, external_source="prefect", external_id="ext-1")
    assert again.uid == old.uid
    retry = lifecycle.engine_run(old.transform_id, external_source="prefect", external_id="ext-1",
                                 attempt=2)
    lifecycle.record_upstream(retry, ln.Run.get("r000000000000002"))
    assert [r.uid for r in ln.Run.get(retry.uid).upstream_runs] == ["r000000000000002"]
    lifecycle.finish_run(retry, "errored")
    lifecycle.correct_status(retry, "completed")
    assert ln.RecordChange.get(record_id=retry.id).previous == {"status": "errored", "error": None}
