"""Name idempotency: constructing a record with an existing name returns it."""

from __future__ import annotations

from typing import Any, ClassVar

from lineage.db.database import is_unique_violation
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
        if self._adopt_existing():
            return
        from lineage.instance import current_instance

        if current_instance().settings.upon_create_search_names:
            self._warn_similar("name", name)

    def _adopt_existing(self) -> bool:
        """Become the saved record with this name (in scope), if there is one."""
        scope = {f: getattr(self, f) for f in self.name_scope}
        existing = type(self).filter(name=self.name, **scope).first()
        if existing is None:
            return False
        self.__dict__.update(existing.__dict__)
        return True

    def _insert(self, conn: Any) -> None:
        if not self._adopt_existing():
            super()._insert(conn)

    def save(self) -> NamedRecord:
        """Insert, or become the record that already has this name.

        Another writer may insert the same name between the lookup and the
        insert (PostgreSQL); the unique index then refuses ours and the other
        writer's record is adopted.
        """
        if self.id is not None:
            return super().save()
        try:
            current_db().write(self._insert)
        except Exception as exc:
            if not is_unique_violation(exc) or not self._adopt_existing():
                raise
        return self
