"""The ``space_id`` column of space-scoped registries (see `lineage.models.space`).

Here, below the records, so that every registry module (``lineage.artifact``
included, which ``lineage.models`` imports) can declare it without importing
the models package.
"""

from __future__ import annotations

from lineage.db import provider
from lineage.db.fields import Field

#: Id of the space ``all``, created with the schema.
ALL_SPACE_ID = 1


def default_space_id() -> int:
    """Where a record constructed now goes: what the installed provider says, else ``all``."""
    ask = getattr(provider.get(), "space_id", None)
    return ask() if ask is not None else ALL_SPACE_ID


def space_field(shared: bool = False) -> Field:
    """The ``space_id`` column every space-scoped registry declares.

    Args:
        shared: New records start in ``all`` (transforms: one script tracked in
            several spaces is one transform), not where `default_space_id` says.
    """
    return Field("bigint", nullable=False, default=ALL_SPACE_ID if shared else default_space_id,
                 references="space", index=True, server_default=str(ALL_SPACE_ID))
