"""What the database layer needs from the layers above it, behind one door.

`lineage.db` is a record store: fields, records, queries, compare-and-swap
saves, migrations. It knows nothing of instances, runs, users or which
registries the package declares, and imports nothing from those layers.
What it needs of them it asks the installed `Provider`::

    provider.get().database()   # the current database (found or created on first use)
    provider.get().run_id()     # id of the current run, for the change history
    provider.get().user_id()    # id of the current user's row, likewise

The package root (`lineage/__init__.py`) installs the lineage provider when
the package is first imported, which Python does before any of its modules,
so every caller finds it installed. Tests and tools may install another one
with `install` (and restore the previous one it returns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lineage.db.database import Database
    from lineage.db.fields import LinkTable
    from lineage.db.record import Record

__all__ = ["Provider", "get", "install"]


class Provider(Protocol):
    """The services of the upper layers that the database layer calls."""

    def database(self) -> Database:
        """The database of the current instance (connecting on first use)."""

    def run_id(self) -> int | None:
        """Id of the current run, or None outside a run."""

    def user_id(self) -> int | None:
        """Id of the current OS user's User row."""

    def space_id(self) -> int:
        """Id of the space new records go to (1, ``all``, when nothing chose another)."""

    def load_registries(self) -> None:
        """Import every registry class, so relations and schemas see them all."""

    def link_tables(self) -> Sequence[LinkTable]:
        """Every many-to-many link table."""

    def describe(self, record: Record) -> None:
        """Print a readable summary of `record` (`Record.describe`)."""


_installed: Provider | None = None


def install(provider: Provider | None) -> Provider | None:
    """Install `provider` (None uninstalls it).

    Returns:
        The provider it replaces, so a caller can put it back.
    """
    global _installed
    previous, _installed = _installed, provider
    return previous


def get() -> Provider:
    """The installed provider.

    Raises:
        RuntimeError: None is installed (only after ``install(None)``).
    """
    if _installed is None:
        raise RuntimeError(
            "lineage.db has no provider installed, so it cannot find the current database. "
            "Importing lineage installs one; code that called lineage.db.provider.install(None) "
            "must install a provider again before using records."
        )
    return _installed
