"""Instances: a metadata database plus storage locations.

Discovery order for the current instance: `connect()`/`init()` in this
process, then ``LINEAGE_INSTANCE``, then the nearest ``.lineage/`` folder
above the working directory, then the user default, and with none of these
a new embedded instance in ``./.lineage/``, announced in one line.

The user default is chosen on the command line only (``lineage init``,
``lineage connect``, which say so): an `init` or `connect` in a script
changes its own process, never what later scripts elsewhere write to.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.capture.redact import redact_url
from lineage.db.database import Database
from lineage.db.dialect import utcnow
from lineage.db.uids import random_base62
from lineage.errors import DatabaseUnreachable, InstanceNotFound, ValidationError

if TYPE_CHECKING:
    from pydantic import BaseModel

#: File name of the SQLite database inside an embedded instance folder.
DB_FILE = "lineage.db"
#: Folder name of the zero-configuration instance.
DEFAULT_FOLDER = ".lineage"

_current: Instance | None = None
_lock = threading.RLock()


class Instance:
    """An open instance.

    Attributes:
        db: The metadata database.
        root: The instance folder for embedded instances, else None.
        uid: Random id of the instance.
        storage_root: Default storage location for new artifacts.
        settings: Validated settings (see `lineage.instance_settings`).
    """

    def __init__(self, db: Database, root: Path | None) -> None:
        self.db = db
        self.root = root
        self.uid = ""
        self.settings: BaseModel = None  # type: ignore[assignment]
        self._user_id: int | None = None
        self._storage_ids: dict[str, int] = {}
        self._stores: dict[str, Any] = {}

    @property
    def slug(self) -> str:
        """How to name this instance to `connect()`."""
        return str(self.root) if self.root else self.db.safe_url

    @property
    def storage_root(self) -> str:
        """Root of the storage location new artifacts go to."""
        return self.settings.storage or self._default_storage

    def close(self) -> None:
        """Close database connections."""
        self.db.close()

    def __repr__(self) -> str:
        return f"Instance({self.slug!r}, storage={self.storage_root!r})"

    # --- opening ----------------------------------------------------------------
    def _load(self) -> None:
        from lineage.db.migrate import SCHEMA_VERSION, check_version, schema_version, upgrade
        from lineage.instance_settings import (
            env_overrides,
            env_variable,
            load_settings,
            without_credentials,
        )

        version = self.db.read(schema_version)
        if version is None:
            raise InstanceNotFound(
                f"no lineage instance at {self.slug}. Create one with "
                f"ln.init(storage=...) or `lineage init`."
            )
        check_version(version, self.slug)
        if version < SCHEMA_VERSION:
            print(f"lineage: upgrading the schema of {self.slug} to version {SCHEMA_VERSION}",
                  file=sys.stderr)
            upgrade(self.db)
        facts = dict(self.db.query("SELECT key, value FROM lineage_instance"))
        self.uid = facts.get("uid", "")
        self._default_storage = facts.get("default_storage") or str(self.root)
        stored = json.loads(facts["settings"]) if facts.get("settings") else {}
        cleaned = without_credentials(stored)
        if cleaned is not None:  # an older lineage stored a token: drop it for good
            stored = cleaned
            try:
                _put_fact(self.db, "settings", json.dumps(stored))
            except Exception:  # noqa: BLE001 - read-only instance: the token is still never used
                pass
        self.settings = load_settings(stored)
        if "storage" in env_overrides() and self.settings.storage:
            self._check_backend_fits(self.settings.storage, f"{env_variable('storage')}=")
        self.db.durability = self.settings.durability

    def update_settings(self, changes: dict[str, Any]) -> None:
        """Validate, persist and apply setting `changes` (in one transaction).

        Raises:
            SettingsError: An unknown setting or a value it does not allow,
                including a storage location that cannot hold objects (a
                regular file) or that this instance's database cannot serve
                (a bucket for an embedded SQLite instance). Nothing is
                written then.
        """
        from lineage.instance_settings import validate

        new = validate(self.settings.model_dump(), changes)
        if "storage" in changes and new.storage is not None:
            self._check_backend_fits(new.storage, "")

        def work(conn: Any) -> None:
            if "storage" in changes and new.storage is not None:
                self.storage_id(new.storage)
            row = conn.fetchone("SELECT value FROM lineage_instance WHERE key = 'settings'")
            stored = json.loads(row[0]) if row and row[0] else {}
            stored.update({k: getattr(new, k) for k in changes})
            _put_fact(self.db, "settings", json.dumps(stored))

        try:
            self.db.write(work)
        except BaseException:
            self._storage_ids.pop(new.storage, None)  # its row was rolled back
            raise
        self.settings = new
        self.db.durability = new.durability

    def _check_backend_fits(self, root: str, source: str) -> None:
        """Refuse a bucket as the storage of an embedded (SQLite) instance."""
        from lineage.errors import SettingsError

        if self.root is not None and is_remote(root):
            raise SettingsError(
                f"{source or 'storage '}{root!r} is remote, but this instance keeps its metadata "
                f"in the SQLite file {self.root / DB_FILE}, which other machines cannot reach. "
                "Use a local folder, or create a team instance with a shared database: "
                f"ln.init(storage={root!r}, db='postgresql://user@host/dbname')."
            )

    # --- rows every writer needs --------------------------------------------------
    def user_id(self) -> int:
        """Id of the User row of the OS user running this process."""
        if self._user_id is None:
            handle = _os_user()

            def work(conn: Any) -> int:
                conn.execute(
                    "INSERT INTO user_account (uid, handle, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [random_base62(8), handle, conn.dialect.encode("datetime", utcnow())],
                )
                return conn.scalar("SELECT id FROM user_account WHERE handle = ?", [handle])

            self._user_id = self.db.write(work)
        return self._user_id

    def storage_id(self, root: str | None = None) -> int:
        """Id of the Storage row for `root` (the default location if None), registering it."""
        root = root or self.storage_root
        if root not in self._storage_ids:
            kind = root.split("://", 1)[0] if "://" in root else "local"

            def work(conn: Any) -> int:
                conn.execute(
                    "INSERT INTO storage (uid, root, type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [random_base62(12), root, kind, conn.dialect.encode("datetime", utcnow())],
                )
                return conn.scalar("SELECT id FROM storage WHERE root = ?", [root])

            self._storage_ids[root] = self.db.write(work)
        return self._storage_ids[root]

    def store(self, root: str | None = None) -> Any:
        """The object store for `root` (default location if None)."""
        root = root or self.storage_root
        if root not in self._stores:
            from lineage.storage.base import open_store

            self._stores[root] = open_store(root)
        return self._stores[root]

    @property
    def cache_dir(self) -> Path:
        """Local folder for downloaded copies of remote objects."""
        base = os.environ.get("LINEAGE_CACHE_DIR")
        if base:
            folder = Path(base).expanduser().absolute()
            if folder.exists() and not folder.is_dir():
                raise ValidationError(
                    f"environment variable LINEAGE_CACHE_DIR={base!r} is not a folder. Point it "
                    "at a folder for downloaded copies (it is created if missing), or unset it."
                )
            return folder / (self.uid or "default")
        if self.root is not None:
            return self.root / "cache"
        return Path.home() / ".cache" / "lineage" / (self.uid or "default")


# --- public functions --------------------------------------------------------------
def init(storage: str | os.PathLike[str] = DEFAULT_FOLDER, db: str | None = None) -> Instance:
    """Create an instance (or open the existing one) and make it current in this process.

    The user default (for processes that find no other instance) stays as
    it is: ``lineage init`` on the command line changes it.

    Args:
        storage: A local folder (embedded instance: SQLite database and
            objects inside it) or a bucket URL such as ``s3://bucket/prefix``
            (then `db` is required).
        db: A PostgreSQL URL such as ``postgresql+psycopg://user@host/db``
            for a team instance; None for the embedded SQLite database.

    Returns:
        The current instance.
    """
    from lineage.db.migrate import check_version, schema_version, upgrade

    storage_str = os.fspath(storage)
    if db is None and is_remote(storage_str):
        raise ValidationError(
            f"storage {storage_str!r} is remote, so the metadata needs a shared database: "
            "pass db='postgresql+psycopg://user@host/dbname'."
        )
    root: Path | None = None
    if db is None:
        root = _local_root(storage_str)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValidationError(f"cannot create the instance folder {root}: {exc}") from exc
        database = Database(f"sqlite:///{root / DB_FILE}")
        default_storage = str(root)
    else:
        database = Database(_normalize_db_url(db))
        default_storage = normalize_storage_root(storage_str)
    existing = database.read(schema_version)
    if existing is not None:
        check_version(existing, root or database.safe_url)
    if existing is None or existing < _schema_version():
        upgrade(database)
        database.close()
    _init_facts(database, default_storage)
    instance = _activate(database, root)
    instance.storage_id(default_storage)
    return instance


def connect(target: str | os.PathLike[str]) -> Instance:
    """Open an existing instance and make it current in this process (closing the previous one).

    The user default stays as it is: ``lineage connect`` on the command line changes it.

    Args:
        target: The instance folder given to `init`, a path to its
            ``lineage.db``, or a database URL.

    Raises:
        InstanceNotFound: Nothing lineage-like is there.
        SchemaVersionError: A newer lineage wrote the instance.
        DatabaseUnreachable: The database cannot be reached.
    """
    database, root = _database_for(os.fspath(target))
    return _activate(database, root)


def make_user_default(instance: Instance) -> Path | None:
    """Make `instance` the user default: what processes that find no other instance use.

    Only the command line (``lineage init``, ``lineage connect``) calls this.

    Returns:
        The file that now names it, or None when the configuration folder
        cannot be written (discovery still has the other ways).
    """
    return _write_user_default(str(instance.root) if instance.root else instance.db.url)


def current_instance() -> Instance:
    """The current instance, found (or created) as described in the module docstring."""
    if _current is not None:
        return _current
    with _lock:
        if _current is not None:
            return _current
        variable = os.environ.get("LINEAGE_INSTANCE")
        if variable:
            return _activate_from_environment(variable)
        target = discovered_target()
        if target:
            database, root = _database_for(target)
            return _activate(database, root)
        instance = init(Path.cwd() / DEFAULT_FOLDER)
        print(f"lineage: created a new instance in {instance.root} (SQLite + local storage); "
              "choose another with ln.init(...) or LINEAGE_INSTANCE", file=sys.stderr)
        return instance


def discovered_target() -> str | None:
    """Where discovery finds an instance (``LINEAGE_INSTANCE``, the nearest
    ``.lineage/`` folder, the user default), or None; nothing is created."""
    return os.environ.get("LINEAGE_INSTANCE") or _nearest_folder() or _read_user_default()


def current_user_id() -> int | None:
    """Id of the current OS user's User row in the current instance."""
    return current_instance().user_id()


def close() -> None:
    """Close the current instance, if any (the next use discovers one again)."""
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = None


# --- helpers ---------------------------------------------------------------------
def _activate_from_environment(target: str) -> Instance:
    """The instance ``LINEAGE_INSTANCE`` names; its errors name the variable."""
    try:
        database, root = _database_for(target)
        return _activate(database, root)
    except (InstanceNotFound, DatabaseUnreachable, ValidationError) as exc:
        shown = redact_url(target) if "://" in target else target
        raise type(exc)(
            f"environment variable LINEAGE_INSTANCE={shown!r} names no usable instance: {exc} "
            "Point it at an instance folder or database URL, or unset it (unset LINEAGE_INSTANCE)."
        ) from None


def _activate(database: Database, root: Path | None) -> Instance:
    global _current
    instance = Instance(database, root)
    try:
        instance._load()
    except BaseException:
        database.close()
        raise
    with _lock:
        if _current is not None:
            _current.close()
        _current = instance
    return instance


def _schema_version() -> int:
    from lineage.db.migrate import SCHEMA_VERSION

    return SCHEMA_VERSION


def _init_facts(database: Database, default_storage: str) -> None:
    from lineage._version import __version__

    def work(conn: Any) -> None:
        for key, value in (("uid", random_base62(12)), ("created_at", utcnow().isoformat()),
                           ("created_by_version", __version__), ("default_storage", default_storage)):
            conn.execute("INSERT INTO lineage_instance (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                         [key, value])

    database.write(work)


def _put_fact(database: Database, key: str, value: str) -> None:
    database.write(lambda conn: conn.execute(
        "INSERT INTO lineage_instance (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]))


def _database_for(target: str) -> tuple[Database, Path | None]:
    if target.startswith(("postgresql", "postgres://", "sqlite://")):
        url = _normalize_db_url(target)
        if url.startswith("sqlite:///"):
            path = Path(url.split("sqlite:///", 1)[1])
            return _embedded(path.parent, path)
        return Database(url), None
    path = Path(target).expanduser().resolve()
    if path.is_file():
        return _embedded(path.parent, path)
    return _embedded(path, path / DB_FILE)


def _embedded(root: Path, db_path: Path) -> tuple[Database, Path]:
    if not db_path.is_file():
        raise InstanceNotFound(
            f"no lineage instance at {root} (no {db_path.name} there). Create one with "
            f"ln.init(storage={str(root)!r}) or `lineage init --storage {root}`."
        )
    return Database(f"sqlite:///{db_path}"), root


def _local_root(storage: str) -> Path:
    if storage.startswith("file://"):
        storage = storage[len("file://"):]
    return Path(storage).expanduser().resolve()


def normalize_storage_root(root: str) -> str:
    """An absolute local path, or a URL without a trailing slash."""
    if is_remote(root):
        return root.rstrip("/")
    return str(_local_root(root))


def is_remote(root: str) -> bool:
    """Whether a storage location is a URL such as ``s3://bucket/prefix`` (not ``file://``)."""
    return "://" in root and not root.startswith("file://")


def check_storage_location(root: str) -> str:
    """The normal form of a storage location, checked to be able to hold objects.

    Relative paths become absolute (against the working directory) and URLs
    lose a trailing slash. A local location must be a folder or a path where
    one can be created.

    Raises:
        SettingsError: A regular file, or a path below one.
    """
    from lineage.errors import SettingsError

    if not isinstance(root, str) or not root.strip():
        raise SettingsError(f"a storage location is a folder or a URL such as s3://bucket, got {root!r}")
    normalized = normalize_storage_root(root)
    if is_remote(normalized):
        return normalized
    existing = Path(normalized)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if str(existing) == normalized else f"is below {existing}, which is"
        raise SettingsError(
            f"storage {normalized} {where} a regular file, not a folder; give a folder for the "
            "objects (created if missing) or a bucket URL such as s3://bucket/prefix"
        )
    return normalized


def _normalize_db_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql+psycopg://"):
        url = "postgresql://" + url[len("postgresql+psycopg://"):]
    if not url.startswith(("postgresql://", "sqlite:///")):
        raise ValidationError(
            f"unsupported database URL {redact_url(url)!r}: use postgresql+psycopg://... "
            "or leave db unset for the embedded SQLite database."
        )
    return url


def _nearest_folder() -> str | None:
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_FOLDER / DB_FILE).is_file():
            return str(folder / DEFAULT_FOLDER)
    return None


def _config_dir() -> Path:
    base = os.environ.get("LINEAGE_CONFIG_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return Path(xdg) / "lineage" if xdg else Path.home() / ".config" / "lineage"


def _read_user_default() -> str | None:
    path = _config_dir() / "default_instance"
    try:
        value = path.read_text().strip()
    except OSError:
        return None
    return value or None


def _write_user_default(target: str) -> Path | None:
    folder = _config_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".default_instance.{os.getpid()}"
        # owner-only: a database URL may hold the password needed to reconnect
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(target + "\n")
        os.replace(tmp, folder / "default_instance")
    except OSError:
        return None  # a read-only home must not stop work; discovery still has other ways
    return folder / "default_instance"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - getuser raises several types without a passwd entry
        return f"uid-{os.getuid()}"
