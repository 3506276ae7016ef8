"""The database layer reaches the current database, run and user only through its provider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import lineage as ln
from lineage import LineageProvider
from lineage.db import provider
from lineage.db.database import Database
from lineage.instance import DB_FILE


class Elsewhere(LineageProvider):
    """The lineage provider, but with another instance's database, run and user."""

    def __init__(self, db: Database, run_id: int, user_id: int) -> None:
        self.db, self.run, self.user = db, run_id, user_id

    def database(self) -> Database:
        return self.db

    def run_id(self) -> int | None:
        return self.run

    def user_id(self) -> int | None:
        return self.user


def test_records_are_written_where_the_installed_provider_says(tmp_path: Path) -> None:
    ln.init(storage=tmp_path / "other")
    run = ln.Run(transform_id=ln.Transform(key="elsewhere.py", hash="h").save().id).save()
    someone = ln.User(handle="someone-else").save()
    ln.init(storage=tmp_path / "current")  # closes "other"; no run is active here
    other_db = Database(f"sqlite:///{tmp_path / 'other' / DB_FILE}")
    previous = provider.install(Elsewhere(other_db, run.id, someone.id))
    try:
        transform = ln.Transform(key="placed.py", hash="h").save()
        transform.description = "changed"
        transform.save()
        same = ln.Transform.get(transform.uid)
    finally:
        provider.install(previous)
    assert same.description == "changed"
    assert ln.Transform.filter(key="placed.py").count() == 0  # the current instance is untouched
    history = other_db.query("SELECT fields, changed_by_id, run_id FROM record_change "
                             "WHERE record_uid = ?", [transform.uid])
    other_db.close()
    assert [(changed_by, run_id) for _, changed_by, run_id in history] == [(someone.id, run.id)]


def test_without_a_provider_records_say_what_is_missing(sqlite_instance) -> None:
    previous = provider.install(None)
    try:
        with pytest.raises(RuntimeError, match="no provider installed.*install a provider"):
            ln.Project.filter().count()
    finally:
        provider.install(previous)
    assert ln.Project.filter().count() == 0


def test_any_import_of_the_database_layer_finds_the_lineage_provider() -> None:
    code = ("import lineage.db.record\nfrom lineage.db import provider\n"
            "print(type(provider.get()).__qualname__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "LineageProvider"
