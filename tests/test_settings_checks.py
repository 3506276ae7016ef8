"""Settings are checked when they are given, from Python, the CLI or ``LINEAGE_*`` variables.

A storage location that cannot work is refused at once (no storage row
left behind), a relative ``LINEAGE_STORAGE`` means the same folder from any
working directory, and a bad environment value names its variable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lineage as ln
import lineage.instance as instance_module
from lineage.errors import InstanceNotFound, SettingsError, ValidationError


def reopen(instance: instance_module.Instance) -> instance_module.Instance:
    """Connect again to `instance`, so settings and variables are read anew."""
    target = str(instance.root) if instance.root else instance.db.url
    instance_module.close()
    return ln.connect(target)


def storage_roots(instance: instance_module.Instance) -> list[str]:
    return [r[0] for r in instance.db.query("SELECT root FROM storage ORDER BY id")]


def test_relative_storage_variable_is_made_absolute(instance, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("LINEAGE_STORAGE", "objects")
    opened = reopen(instance)
    assert opened.settings.storage == str(work / "objects")
    data = work / "data.csv"
    data.write_text("a\n1\n")
    artifact = ln.Artifact(data, key="raw/data.csv").save()
    assert artifact.storage.root == str(work / "objects")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("LINEAGE_STORAGE")
    reopen(instance)
    assert ln.Artifact.get(key="raw/data.csv").cache().read_text() == "a\n1\n"


def test_storage_on_a_regular_file_is_refused_without_a_row(instance, tmp_path):
    regular = tmp_path / "file.txt"
    regular.write_text("not a folder")
    before = storage_roots(instance)
    for bad in (regular, regular / "below"):
        with pytest.raises(SettingsError, match="regular file"):
            ln.settings.storage = str(bad)
    assert storage_roots(instance) == before
    assert ln.settings.storage is None
    ln.settings.storage = str(tmp_path / "new" / "objects")  # a folder to be created is fine
    assert storage_roots(instance) == [*before, str(tmp_path / "new" / "objects")]


def test_a_bucket_for_an_embedded_instance_is_refused_at_once(sqlite_instance):
    before = storage_roots(sqlite_instance)
    with pytest.raises(SettingsError, match="SQLite file"):
        ln.settings.storage = "s3://bucket/prefix"
    assert storage_roots(sqlite_instance) == before
    assert ln.settings.storage is None


def test_a_bucket_for_a_postgresql_instance_is_accepted(fresh_postgres_db, tmp_path):
    ln.init(storage=tmp_path / "objects", db=fresh_postgres_db)
    ln.settings.storage = "s3://bucket/prefix/"
    assert ln.settings.storage == "s3://bucket/prefix"


@pytest.mark.parametrize(("variable", "value"), [
    ("LINEAGE_UPON_CREATE_SEARCH_NAMES", "maybe"),
    ("LINEAGE_UPON_ARTIFACT_CREATE_IF_HASH_EXISTS", "sometimes"),
    ("LINEAGE_SYNC_GIT_REPO", "not-a-url"),
    ("LINEAGE_STORAGE", "__FILE__"),
])
def test_a_bad_setting_variable_names_itself(instance, tmp_path, monkeypatch, variable, value):
    regular = tmp_path / "file.txt"
    regular.write_text("x")
    monkeypatch.setenv(variable, value.replace("__FILE__", str(regular)))
    with pytest.raises(SettingsError) as caught:
        reopen(instance)
    message = str(caught.value)
    assert f"environment variable {variable}=" in message and f"unset {variable}" in message


def test_a_bucket_variable_for_an_embedded_instance_names_itself(sqlite_instance, monkeypatch):
    monkeypatch.setenv("LINEAGE_STORAGE", "s3://bucket")
    with pytest.raises(SettingsError, match="LINEAGE_STORAGE='s3://bucket' is remote"):
        reopen(sqlite_instance)


def test_bad_instance_and_cache_variables_name_themselves(sqlite_instance, tmp_path, monkeypatch):
    instance_module.close()
    monkeypatch.setenv("LINEAGE_INSTANCE", str(tmp_path / "nowhere"))
    with pytest.raises(InstanceNotFound, match="LINEAGE_INSTANCE=.*unset LINEAGE_INSTANCE"):
        instance_module.current_instance()
    monkeypatch.setenv("LINEAGE_INSTANCE", "postgresql://bob:hunter2@127.0.0.1:1/x")
    with pytest.raises(ln.errors.DatabaseUnreachable) as caught:
        instance_module.current_instance()
    assert "LINEAGE_INSTANCE" in str(caught.value) and "hunter2" not in str(caught.value)
    monkeypatch.setenv("LINEAGE_INSTANCE", str(sqlite_instance.root))
    regular = tmp_path / "cache-file"
    regular.write_text("x")
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(regular))
    with pytest.raises(ValidationError, match="LINEAGE_CACHE_DIR"):
        instance_module.current_instance().cache_dir  # noqa: B018 - the property checks


def test_cli_says_it_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_CONFIG_DIR"] = str(tmp_path / "cfg")

    def lineage(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lineage", *args], cwd=tmp_path,
                              env={**env, **extra}, capture_output=True, text=True, timeout=120,
                              check=False)

    assert lineage("init", "--storage", "./inst").returncode == 0
    Path(tmp_path / "file.txt").write_text("x")
    for done in (lineage("settings", "set", "storage", "file.txt"),
                 lineage("settings", "set", "storage", "s3://bucket"),
                 lineage("info", LINEAGE_UPON_CREATE_SEARCH_NAMES="maybe")):
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("Error: ")
    assert "unset LINEAGE_UPON_CREATE_SEARCH_NAMES" in done.stderr
