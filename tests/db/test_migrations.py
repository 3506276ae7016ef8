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


def test_0003_gives_run_report_a_foreign_key_and_clears_dangling_ids(empty_db, tmp_path: Path):
    url, target = empty_db
    migrate_to(url, "0002")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO lineage_instance (key, value) VALUES ('default_storage', :root)",
         {"root": str(tmp_path / "storage")}),
        ("INSERT INTO transform (uid, key, kind, version, is_latest, created_at) VALUES "
         "('t000000000000001', 'old.py', 'script', 1, :true, :now)", {"true": True, "now": NOW}),
        ("INSERT INTO artifact (uid, suffix, kind, size, hash, hash_type, version, is_latest, "
         "storage_ongoing, created_at, updated_at) VALUES ('a000000000000001', '', 'file', 1, "
         ":hash, 'sha256', 1, :false, :false, :now, :now)",
         {"hash": "0" * 64, "false": False, "now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at, report_id, attempt) "
         "VALUES ('r000000000000001', 1, 'completed', :now, 1, 1)", {"now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at, report_id, attempt) "
         "VALUES ('r000000000000002', 1, 'completed', :now, 101, 1)", {"now": NOW}),  # dangles
    ])
    ln.connect(target)
    from lineage.db.migrate import SCHEMA_VERSION

    assert ln.Run.get("r000000000000001").report.uid == "a000000000000001"
    assert ln.Run.get("r000000000000002").report_id is None, "the dangling id is cleared"
    assert SCHEMA_VERSION >= 3
    ln.Run.get("r000000000000001").report.delete()
    assert ln.Run.get("r000000000000001").report_id is None
    path = tmp_path / "next.txt"
    path.write_text("the next artifact")
    newest = ln.Artifact(path).save()
    assert ln.Run.get("r000000000000001").report is None, f"{newest.uid} is nobody's report"


def test_deleting_a_report_artifact_clears_the_run_reference(instance, tmp_path: Path):
    run = lifecycle.start_run(lifecycle.get_or_create_transform("r.py", "print(1)", "script"),
                              environment=False)
    path = tmp_path / "report.txt"
    path.write_text("printed")
    report = ln.Artifact(path, description="report").save()
    instance.db.write(lambda c: c.execute("UPDATE run SET report_id = ? WHERE id = ?",
                                          [report.id, run.id]))
    report.delete()
    assert ln.Run.get(run.uid).report_id is None
    other = tmp_path / "other.txt"
    other.write_text("other")
    again = ln.Artifact(other, description="other").save()
    assert ln.Run.get(run.uid).report is None
    with pytest.raises(Exception):  # noqa: B017 - the driver's own foreign-key error
        instance.db.write(lambda c: c.execute("UPDATE run SET report_id = ? WHERE id = ?",
                                              [again.id + 1000, run.id]))


def test_0004_puts_existing_records_in_the_space_all(empty_db):
    url, target = empty_db
    migrate_to(url, "0003")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO transform (uid, key, kind, version, is_latest, created_at) VALUES "
         "('t000000000000001', 'old.py', 'script', 1, :true, :now)", {"true": True, "now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at, attempt) "
         "VALUES ('r000000000000001', 1, 'completed', :now, 1)", {"now": NOW}),
        ("INSERT INTO project (uid, name, created_at) VALUES ('p00000000001', 'P', :now)",
         {"now": NOW}),
    ])
    ln.connect(target)
    everyone = ln.Space.get(name="all")
    assert everyone.id == 1
    assert ln.Run.get("r000000000000001").space_id == 1
    assert ln.Transform.get("t000000000000001").space_id == 1
    assert ln.Project.get(name="P").space_id == 1
    # new records land in all too, and a new space takes the next id
    team = ln.Space(name="Our team space").save()
    assert team.id == 2
    run = lifecycle.start_run(ln.Transform.get("t000000000000001"), environment=False)
    assert ln.Run.get(run.uid).space_id == 1


def test_0005_adds_an_empty_version_tag_to_existing_transforms(empty_db):
    url, target = empty_db
    migrate_to(url, "0004")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO transform (uid, key, kind, version, is_latest, created_at) VALUES "
         "('t000000000000001', 'old.py', 'script', 1, :true, :now)", {"true": True, "now": NOW}),
    ])
    ln.connect(target)
    old = ln.Transform.get("t000000000000001")
    assert old.version_tag is None
    old.version_tag = "T1"
    old.save()
    assert ln.Transform.filter(version_tag="T1").one().uid == "t000000000000001"



def test_0006_indexes_a_store_with_runs(empty_db):
    url, target = empty_db
    migrate_to(url, "0005")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO transform (uid, key, kind, version, is_latest, created_at) VALUES "
         "('t000000000000001', 'old.py', 'script', 1, :true, :now)", {"true": True, "now": NOW}),
        ("INSERT INTO run (uid, transform_id, status, started_at, params, attempt) VALUES "
         "('r000000000000001', 1, 'completed', :now, '{\"lr\": 0.01}', 1)", {"now": NOW}),
    ])
    ln.connect(target)
    from lineage.db.record import current_db

    db = current_db()
    if db.is_sqlite:
        names = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    else:
        names = {r[0] for r in db.query("SELECT indexname FROM pg_indexes")}
        assert {"ix_run_params", "ix_run_feature_value_value"} <= names
    assert "ix_run_transform_started" in names and "ix_run_transform_id" not in names
    assert [r.uid for r in ln.Run.filter(params__lr=0.01)] == ["r000000000000001"]
    assert [r.uid for r in ln.Transform.get("t000000000000001").runs.order_by("-started_at")] == [
        "r000000000000001"]


def test_0007_versions_artifact_keys_per_space(empty_db, tmp_path: Path):
    url, target = empty_db
    migrate_to(url, "0006")
    execute(url, [
        ("INSERT INTO lineage_instance (key, value) VALUES ('uid', 'oldinst')", {}),
        ("INSERT INTO lineage_instance (key, value) VALUES ('default_storage', :root)",
         {"root": str(tmp_path / "storage")}),
        ("INSERT INTO artifact (uid, key, suffix, kind, size, hash, hash_type, version, "
         "is_latest, storage_ongoing, created_at, updated_at) VALUES ('a000000000000001', "
         "'r/x.txt', '.txt', 'file', 1, :hash, 'sha256', 1, :true, :false, :now, :now)",
         {"hash": "0" * 64, "true": True, "false": False, "now": NOW}),
    ])
    ln.connect(target)
    path = tmp_path / "x.txt"
    path.write_text("the second version")
    second = ln.Artifact(path, key="r/x.txt").save()
    assert second.version == 2 and second.is_latest
    assert not ln.Artifact.get("a000000000000001").is_latest
    team = ln.Space(name="team").save()
    other = tmp_path / "y.txt"
    other.write_text("the team's own")
    theirs = ln.flow(space=team)(lambda: ln.Artifact(other, key="r/x.txt").save())()
    assert theirs.version == 1 and theirs.is_latest and ln.Artifact.get(second.uid).is_latest
