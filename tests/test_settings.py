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


TOKEN_URL = "https://ci-bot:ghp_S3CRET@github.com/org/repo.git?access_token=S3CRET2"


def _stored_settings(instance) -> str:  # noqa: ANN001 - the instance fixture
    return instance.db.query("SELECT value FROM lineage_instance WHERE key = 'settings'")[0][0]


def test_a_token_in_sync_git_repo_is_neither_stored_nor_shown(instance, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lineage.cli import build

    with pytest.warns(UserWarning, match="credentials in the URL were dropped"):
        ln.settings.sync_git_repo = TOKEN_URL
    assert ln.settings.sync_git_repo == "https://github.com/org/repo"
    assert "S3CRET" not in _stored_settings(instance)
    monkeypatch.setenv("LINEAGE_INSTANCE", instance.slug if instance.db.is_sqlite else instance.db.url)
    for args in (["settings", "set", "sync-git-repo", TOKEN_URL], ["settings", "get", "sync-git-repo"],
                 ["settings", "get"]):
        result = CliRunner().invoke(build(), args)
        assert result.exit_code == 0, result.output
        assert "S3CRET" not in result.output and "github.com/org/repo" in result.output
    assert "S3CRET" not in _stored_settings(instance)
    monkeypatch.setenv("LINEAGE_SYNC_GIT_REPO", TOKEN_URL)  # an override is cleaned the same way
    ln.connect(instance.slug if instance.db.is_sqlite else instance.db.url)
    assert "S3CRET" not in ln.settings.sync_git_repo


def test_a_token_stored_by_an_older_lineage_is_dropped_when_the_instance_opens(instance):
    import json

    from lineage.instance import _put_fact

    slug = instance.slug if instance.db.is_sqlite else instance.db.url
    legacy = {"sync_git_repo": "https://x:ghp_S3CRET@github.com/org/repo", "dev_dir": None}
    _put_fact(instance.db, "settings", json.dumps(legacy))  # as an older lineage stored it
    ln.connect(slug)
    assert ln.settings.sync_git_repo == "https://github.com/org/repo"
    assert "S3CRET" not in _stored_settings(ln.connect(slug))
