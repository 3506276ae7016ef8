"""Settings of the current instance: validated, persisted, overridable by env.

``ln.settings.<name> = value`` validates the value (an unknown name or a
value outside the allowed set raises `SettingsError`, a `ValueError`),
stores it in the instance's database, and applies it at once. Environment
variables ``LINEAGE_<NAME>`` override stored values for the process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lineage.errors import SettingsError

if TYPE_CHECKING:
    from pydantic import BaseModel

IfHashExists = Literal["warn_return_existing", "error", "warn_create_new"]
Durability = Literal["normal", "full"]
Verbosity = Literal["info", "warning"]

#: Setting names, their defaults and one-line help (also used by the CLI).
SETTINGS_HELP = {
    "upon_create_search_names": "warn about similar names when creating named records",
    "upon_artifact_create_if_hash_exists": "what Artifact(...) does with content that exists",
    "dev_dir": "folder that transform keys are relative to",
    "sync_git_repo": "repository URL used to link sources to git blobs",
    "storage": "default storage location of new artifacts (path or s3://bucket/prefix)",
    "durability": "normal: a power loss may drop the newest commits; full: a finished run "
                  "or saved artifact is on disk when the call returns (docs/concurrency.md)",
    "space": "space that new runs and their records go to (a space name; unset: all)",
    "verbosity": "info: ln.track() and ln.finish() say what they did in one line each; "
                 "warning: they are silent (warnings are still shown)",
}


def _model_class() -> type[BaseModel]:
    from pydantic import BaseModel, ConfigDict, field_validator

    class InstanceSettings(BaseModel):
        """The validated values; see `SETTINGS_HELP`."""

        model_config = ConfigDict(validate_assignment=True, extra="forbid")

        upon_create_search_names: bool = True
        upon_artifact_create_if_hash_exists: IfHashExists = "warn_return_existing"
        dev_dir: str | None = None
        sync_git_repo: str | None = None
        storage: str | None = None
        durability: Durability = "normal"
        space: str | None = None
        verbosity: Verbosity = "info"

        @field_validator("dev_dir")
        @classmethod
        def _absolute(cls, value: str | None) -> str | None:
            return None if value in (None, "") else str(Path(value).expanduser().resolve())

        @field_validator("storage")
        @classmethod
        def _location(cls, value: str | None) -> str | None:
            if value in (None, ""):
                return None
            from lineage.instance import check_storage_location

            return check_storage_location(value)

        @field_validator("sync_git_repo")
        @classmethod
        def _url(cls, value: str | None) -> str | None:
            if value and not value.startswith(("https://", "http://", "git@", "ssh://")):
                raise ValueError("must be a repository URL such as https://github.com/org/repo")
            return repository_link(value) if value else value

    return InstanceSettings


def repository_link(url: str) -> str:
    """The `sync_git_repo` value stored for `url`: no credentials, no ``.git``, no trailing ``/``.

    The blob links made from it need no credentials, so a token copied in
    with a clone URL (``https://user:ghp_x@github.com/org/repo.git``) is
    dropped (`validate` warns) instead of being stored and shown.
    """
    from lineage.capture.redact import strip_credentials

    return strip_credentials(url).rstrip("/").removesuffix(".git")


_MODEL: type[BaseModel] | None = None


def settings_model() -> type[BaseModel]:
    """The pydantic model class (built on first use: pydantic loads lazily)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = _model_class()
    return _MODEL


def load_settings(stored: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    """Settings from stored values, overridden by ``LINEAGE_*`` variables.

    Stored values were validated when they were assigned, so without
    overrides they are taken as they are (no pydantic import on the way to a
    tracked run); overrides are validated.
    """
    environ = dict(os.environ if environ is None else environ)
    values = {k: v for k, v in stored.items() if k in SETTINGS_HELP}
    overrides = env_overrides(environ)
    if not overrides:
        return StoredSettings(values)
    for name, raw in overrides.items():
        try:
            validate({}, {name: raw})
        except SettingsError as exc:
            from lineage.capture.redact import redact_text

            variable = env_variable(name)
            raise SettingsError(
                f"environment variable {variable}={redact_text(raw)!r} is invalid: "
                f"{redact_text(str(exc))} Fix its value or unset it (unset {variable})."
            ) from None
    return validate({}, {**values, **overrides})


def without_credentials(stored: dict[str, Any]) -> dict[str, Any] | None:
    """Stored settings with credentials dropped, or None when they hold none.

    For instances written by a lineage that stored ``sync_git_repo`` as given.
    """
    link = stored.get("sync_git_repo")
    if not link:
        return None
    clean = repository_link(link)
    return None if clean == link else {**stored, "sync_git_repo": clean}


def env_variable(name: str) -> str:
    """The environment variable that overrides setting `name` (``LINEAGE_STORAGE``)."""
    return f"LINEAGE_{name.upper()}"


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Setting name -> raw value of every ``LINEAGE_<NAME>`` variable set."""
    environ = os.environ if environ is None else environ
    return {name: environ[env_variable(name)] for name in SETTINGS_HELP if env_variable(name) in environ}


#: Defaults of every setting (the pydantic model declares the same).
DEFAULTS: dict[str, Any] = {
    "upon_create_search_names": True,
    "upon_artifact_create_if_hash_exists": "warn_return_existing",
    "dev_dir": None,
    "sync_git_repo": None,
    "storage": None,
    "durability": "normal",
    "space": None,
    "verbosity": "info",
}


class StoredSettings:
    """Already-validated settings read from the database (read-only values)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = {**DEFAULTS, **values}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self) -> dict[str, Any]:
        """All values, as the pydantic model's ``model_dump()`` gives them."""
        return dict(self._values)


def validate(current: dict[str, Any], changes: dict[str, Any]) -> BaseModel:
    """A new settings object with `changes` applied, or a clear `SettingsError`."""
    from pydantic import ValidationError as PydanticError

    for name in changes:
        check_name(name)
    try:
        new = settings_model()(**{**current, **changes})
    except PydanticError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(_message(name, changes.get(name), error)) from None
    given = changes.get("sync_git_repo")
    if isinstance(given, str) and repository_link(given) != given.rstrip("/").removesuffix(".git"):
        from lineage.capture.params import warn_at_caller

        warn_at_caller("sync_git_repo: the credentials in the URL were dropped; links to git "
                       "blobs need none, and settings are stored and shown in plain text.")
    return new


def check_name(name: str) -> str:
    """`name` if it is a setting, else a `SettingsError` listing the settings."""
    if name not in SETTINGS_HELP:
        raise SettingsError(
            f"unknown setting {name!r}. Settings: {', '.join(SETTINGS_HELP)}."
        )
    return name


def _message(name: str, value: Any, error: dict[str, Any]) -> str:
    expected = (error.get("ctx") or {}).get("expected")
    if expected:
        return f"invalid value {value!r} for setting {name!r}: allowed values are {expected}."
    reason = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    return f"invalid value {value!r} for setting {name!r}: {reason}."


class Settings:
    """``ln.settings``: the settings of the current instance.

    Reading or writing connects to (or creates) the current instance, as
    described in DESIGN section 4.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        check_name(name)
        from lineage.instance import current_instance

        return getattr(current_instance().settings, name)

    def __setattr__(self, name: str, value: Any) -> None:
        from lineage.instance import current_instance

        current_instance().update_settings({check_name(name): value})

    def __dir__(self) -> list[str]:
        return sorted(SETTINGS_HELP)

    def __repr__(self) -> str:
        from lineage.instance import current_instance

        values = current_instance().settings.model_dump()
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in values.items()) + ")"


settings = Settings()
