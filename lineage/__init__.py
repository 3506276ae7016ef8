"""lineage: record where data came from.

``import lineage`` only defines names: the database layer, records and
heavy libraries load on first use (see `__getattr__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Artifact", "Environment", "Feature", "Label", "Project", "RecordChange", "Run", "Storage",
    "Transform", "User", "connect", "errors", "finish", "flow", "init", "lineage_graph", "save",
    "settings", "step", "track", "view",
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
    from lineage import errors
    from lineage.artifact import Artifact
    from lineage.instance import connect, init
    from lineage.models.change import RecordChange
    from lineage.models.environment import Environment
    from lineage.models.feature import Feature
    from lineage.models.label import Label
    from lineage.models.project import Project
    from lineage.models.run import Run
    from lineage.models.storage import Storage
    from lineage.models.transform import Transform
    from lineage.models.user import User
    from lineage.instance_settings import settings


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
