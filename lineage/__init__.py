"""lineage: record where data came from.

``import lineage`` only defines names: the database layer, records and
heavy libraries load on first use (see `__getattr__`). It also installs
`LineageProvider`, through which the database layer reaches the current
instance, run and user without importing the layers above it (see
`lineage.db.provider` and docs/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineage._version import __version__
from lineage.db import provider as _provider

__all__ = [
    "Artifact", "Environment", "Feature", "Label", "Project", "RecordChange", "Run", "Space",
    "Storage", "Transform", "User", "connect", "errors", "finish", "flow", "init",
    "lineage_graph", "save", "settings", "step", "track", "view",
]

# public name -> (module, attribute)
_LAZY = {
    "Artifact": ("lineage.artifact", "Artifact"),
    "Environment": ("lineage.models.environment", "Environment"),
    "Feature": ("lineage.models.feature", "Feature"),
    "Label": ("lineage.models.label", "Label"),
    "Project": ("lineage.models.project", "Project"),
    "RecordChange": ("lineage.models.change", "RecordChange"),
    "Run": ("lineage.models.run", "Run"),
    "Space": ("lineage.models.space", "Space"),
    "Storage": ("lineage.models.storage", "Storage"),
    "Transform": ("lineage.models.transform", "Transform"),
    "User": ("lineage.models.user", "User"),
    "connect": ("lineage.instance", "connect"),
    "init": ("lineage.instance", "init"),
    "settings": ("lineage.instance_settings", "settings"),
    "track": ("lineage.tracking", "track"),
    "finish": ("lineage.tracking", "finish"),
    "flow": ("lineage.decorators", "flow"),
    "step": ("lineage.decorators", "step"),
    "save": ("lineage.bulk", "save"),
    "lineage_graph": ("lineage.graph.build", "lineage_graph"),
    "view": ("lineage.graph.overview", "view"),
    "errors": ("lineage.errors", None),
}

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lineage import errors
    from lineage.db.database import Database
    from lineage.db.fields import LinkTable
    from lineage.db.record import Record
    from lineage.artifact import Artifact
    from lineage.instance import connect, init
    from lineage.models.change import RecordChange
    from lineage.models.environment import Environment
    from lineage.models.feature import Feature
    from lineage.models.label import Label
    from lineage.models.project import Project
    from lineage.models.run import Run
    from lineage.models.space import Space
    from lineage.models.storage import Storage
    from lineage.models.transform import Transform
    from lineage.models.user import User
    from lineage.instance_settings import settings


class LineageProvider:
    """The `lineage.db.provider.Provider` of this package: each answer from the layer that owns it."""

    def database(self) -> Database:
        """The current instance's database (`lineage.instance.current_instance`)."""
        from lineage.instance import current_instance

        return current_instance().db

    def run_id(self) -> int | None:
        """The current run's id (`lineage.context.current_run_id`)."""
        from lineage.context import current_run_id

        return current_run_id()

    def user_id(self) -> int | None:
        """The current user's id (`lineage.instance.current_user_id`)."""
        from lineage.instance import current_user_id

        return current_user_id()

    def space_id(self) -> int:
        """Where new records go (`lineage.lifecycle.spaces.default_space_id`)."""
        from lineage.lifecycle.spaces import default_space_id

        return default_space_id()

    def load_registries(self) -> None:
        """Import `lineage.models`, which declares every registry."""
        import lineage.models  # noqa: F401

    def link_tables(self) -> Sequence[LinkTable]:
        """`lineage.models.links.LINK_TABLES`."""
        from lineage.models.links import LINK_TABLES

        return LINK_TABLES

    def describe(self, record: Record) -> None:
        """`lineage.graph.describe.describe`."""
        from lineage.graph.describe import describe

        describe(record)

    def run_observers(self) -> list[Any]:
        """Observers of run starts and finishes (`lineage.lifecycle.observers`): the
        OpenLineage emitter when one is configured (`lineage.openlineage.emit`)."""
        from lineage.openlineage.emit import configured_observers

        return configured_observers()


_provider.install(LineageProvider())


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
