"""``artifact.labels``, ``run.projects``, ...: the linked records, with ``add()`` and ``remove()``.

A many-to-many relation reads as a query set (filter, order, count). Those
declared ``editable`` (labels and projects) also change: ``add(*records)``
inserts link rows (a link already there is kept), ``remove(*records)``
deletes them, each call in one transaction. Lineage links that runs record
(inputs, previous runs, upstream runs) refuse both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lineage.db.query import QuerySet
from lineage.errors import ValidationError

if TYPE_CHECKING:
    from lineage.db.fields import ManyToMany
    from lineage.db.record import Record


class LinkSet(QuerySet):
    """The records linked to `owner` through `relation` (``owner.<name>``)."""

    def __init__(self, model: type[Record], owner: Record, relation: ManyToMany, name: str) -> None:
        super().__init__(model)
        self._owner, self._relation, self._name = owner, relation, name
        if owner.id is None:
            self._lookups.append(("id__in", []))
        else:
            self._raw.append((f"{model.__tablename__}.id IN (SELECT {relation.other_column} FROM "
                              f"{relation.link} WHERE {relation.own_column} = ?)", [owner.id]))

    def add(self, *records: Any) -> None:
        """Link `records` (saved records of the target registry, or lists of them)."""
        ids = self._ids(records, "add")
        sql = (f"INSERT INTO {self._relation.link} ({self._relation.own_column}, "
               f"{self._relation.other_column}) VALUES (?, ?) ON CONFLICT DO NOTHING")
        self._write(sql, ids)

    def remove(self, *records: Any) -> None:
        """Unlink `records`; a record that is not linked is ignored."""
        ids = self._ids(records, "remove")
        sql = (f"DELETE FROM {self._relation.link} WHERE {self._relation.own_column} = ? "
               f"AND {self._relation.other_column} = ?")
        self._write(sql, ids)

    def _write(self, sql: str, ids: list[int]) -> None:
        from lineage.db.record import current_db

        owner_id = self._owner.id

        def work(conn: Any) -> None:
            for other_id in ids:
                conn.execute(sql, [owner_id, other_id])

        if ids:
            current_db().write(work)

    def _ids(self, records: Iterable[Any], verb: str) -> list[int]:
        owner = type(self._owner).__name__
        what = f"{owner.lower()}.{self._name}.{verb}()"
        if not self._relation.editable:
            raise ValidationError(
                f"{what}: {self._name} of a {owner} is lineage recorded by runs and cannot be "
                "changed by hand (labels and projects can).")
        if self._owner.id is None:
            raise ValidationError(f"{what}: save the {owner} first (.save()), then link records.")
        ids: list[int] = []
        for record in _flatten(records):
            if not isinstance(record, self.model):
                raise ValidationError(
                    f"{what} takes {self.model.__name__} records; got {type(record).__name__} "
                    f"{record!r}. Get one with ln.{self.model.__name__}.get(name=...).")
            if record.id is None:
                raise ValidationError(f"{what}: save {record!r} first (.save()).")
            if record.id not in ids:
                ids.append(record.id)
        return ids


def _flatten(records: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for record in records:
        if isinstance(record, (list, tuple, set, QuerySet)):
            flat.extend(record)
        else:
            flat.append(record)
    return flat
