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
            if not is_unique_violation(exc) or self._adopt_existing():
                if not is_unique_violation(exc):
                    raise
                return self
            if current_db().is_sqlite:  # one user sees every record: not a hidden one
                raise
            # A committed record has the name (unique checks wait for writers in
            # flight) and this role cannot see it: it is in a space it cannot read.
            raise self._name_taken() from None
        return self

    def _name_taken(self) -> Exception:
        """The error for a name a record in a space this role cannot read already has."""
        from lineage.errors import PermissionDenied

        registry = type(self).__name__
        return PermissionDenied(
            f"permission denied: the {registry.lower()} name {self.name!r} is taken by a record "
            f"in a space this role cannot read ({registry} names are unique across the "
            "instance, so that teams can share them). Choose another name, for example one "
            "that carries your team's, or ask a member of that space to move the "
            f"{registry.lower()} to a space you read (lineage.lifecycle.move_to_space).")
