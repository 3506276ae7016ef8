"""`HasFeatures`: what a registry with feature values (Run, Artifact) adds to `Record`.

It lives outside `lineage.models` so that `lineage.artifact` can mix it in
without importing that package, whose ``__init__`` imports `lineage.artifact`.
"""

from __future__ import annotations

from typing import Any


class HasFeatures:
    """``record.features`` and ``Registry.filter(<feature name>=value)``.

    Mixed in before `Record` by a registry that sets ``feature_table`` (the
    table of its feature values and the column naming the record).
    """

    @property
    def features(self) -> Any:
        """Feature values of this record (``.features.add_values({...})``, ``.get_values()``)."""
        from lineage.models.feature import Features

        return Features(self)  # type: ignore[arg-type]

    @classmethod
    def extra_lookup(cls, alias: str, head: str, rest: list[str], op: str, value: Any,
                     dialect: Any) -> tuple[str, list[Any]] | None:
        """``Registry.filter(<feature name>=value)`` looks up feature values."""
        from lineage.models.feature import feature_lookup

        return feature_lookup(alias, head, rest, op, value, dialect, model=cls)

    @classmethod
    def lookup_hint(cls, name: str) -> str:
        """The features there are (`lineage.models.feature.feature_hint`)."""
        from lineage.models.feature import feature_hint

        return feature_hint(name)
