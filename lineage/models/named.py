"""Name idempotency: constructing a record with an existing name returns it."""

from __future__ import annotations

from typing import Any, ClassVar

from lineage.db.record import Record, current_db


class NamedRecord(Record):
    """A registry whose records are identified by their name.

    ``Project(name="x")`` when a project named ``x`` exists is that project
    (same id, fields loaded); similar names are listed in a warning unless
    ``ln.settings.upon_create_search_names`` is False.
    """

    name_scope: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, **values: Any) -> None:
        super().__init__(name=name, **values)
        existing = self._find_existing()
        if existing is not None:
            self.__dict__.update(existing.__dict__)
            return
        from lineage.instance import current_instance

        if current_instance().settings.upon_create_search_names:
            self._warn_similar("name", name)

    def _find_existing(self) -> NamedRecord | None:
        scope = {f: getattr(self, f) for f in self.name_scope}
        return type(self).filter(name=self.name, **scope).first()

    def _insert(self, conn: Any) -> None:
        scope = {f: getattr(self, f) for f in self.name_scope}
        existing = type(self).filter(name=self.name, **scope).first()
        if existing is not None:
            self.__dict__.update(existing.__dict__)
            return
        super()._insert(conn)

    def save(self) -> NamedRecord:
        """Insert, or return the record that already has this name."""
        if self.id is None:
            current_db().write(self._insert)
            return self
        return super().save()
