"""Settings: validated on assignment, persisted per instance, env overrides."""

from __future__ import annotations

import pytest

import lineage as ln
from lineage.errors import SettingsError


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("upon_artifact_create_if_hash_exists", "sometimes",
         "allowed values are 'warn_return_existing', 'error' or 'warn_create_new'"),
        ("upon_create_search_names", "perhaps", "upon_create_search_names"),
        ("sync_git_repo", "not a url", "repository URL"),
        ("colour", "red", "unknown setting 'colour'"),
    ],
)
def test_bad_values_raise_value_errors_naming_the_allowed_values(instance, name, value, message):
    before = ln.settings.upon_artifact_create_if_hash_exists
    with pytest.raises(SettingsError, match=message) as excinfo:
        setattr(ln.settings, name, value)
    assert isinstance(excinfo.value, ValueError)
    assert ln.settings.upon_artifact_create_if_hash_exists == before


def test_settings_persist_per_instance(instance, tmp_path):
    ln.settings.upon_artifact_create_if_hash_exists = "error"
    ln.settings.dev_dir = str(tmp_path)
    ln.settings.sync_git_repo = "https://github.com/org/repo.git"
    slug = instance.slug if instance.db.is_sqlite else instance.db.url
    ln.init(storage=tmp_path / "other")
    assert ln.settings.upon_artifact_create_if_hash_exists == "warn_return_existing"
    ln.connect(slug)
    assert ln.settings.upon_artifact_create_if_hash_exists == "error"
    assert ln.settings.dev_dir == str(tmp_path.resolve())
    assert ln.settings.sync_git_repo == "https://github.com/org/repo"


def test_environment_variables_override_stored_values(instance, monkeypatch):
    ln.settings.upon_artifact_create_if_hash_exists = "error"
    monkeypatch.setenv("LINEAGE_UPON_ARTIFACT_CREATE_IF_HASH_EXISTS", "warn_create_new")
    ln.connect(instance.slug if instance.db.is_sqlite else instance.db.url)
    assert ln.settings.upon_artifact_create_if_hash_exists == "warn_create_new"


def test_bad_environment_variable_is_a_clear_error(sqlite_instance, monkeypatch):
    monkeypatch.setenv("LINEAGE_UPON_ARTIFACT_CREATE_IF_HASH_EXISTS", "never")
    with pytest.raises(SettingsError, match="'never'"):
        ln.connect(sqlite_instance.slug)


def test_storage_setting_registers_a_storage_location(instance, tmp_path):
    ln.settings.storage = str(tmp_path / "elsewhere")
    assert instance.storage_root == str(tmp_path / "elsewhere")
    assert ln.Storage.filter(root=str(tmp_path / "elsewhere")).count() == 1


def test_stored_settings_defaults_match_the_validated_model():
    """Opening an instance skips pydantic; its defaults must be the model's."""
    from lineage.instance_settings import DEFAULTS, SETTINGS_HELP, settings_model

    assert settings_model()().model_dump() == DEFAULTS
    assert set(DEFAULTS) == set(SETTINGS_HELP)
