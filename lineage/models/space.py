"""Space: who may read and write a set of records (enforced by PostgreSQL).

Every run, transform, artifact, project, label, feature and change record
has a ``space_id``. Space 1 is ``all``, readable and writable by every member
of the instance; other spaces are readable by their members only, writable by
members with the role ``write`` or ``admin``. On PostgreSQL row-level
security policies enforce this for every connection (see docs/spaces.md and
migration 0004); on SQLite there is one user and spaces are labels only.
"""

from __future__ import annotations

from typing import Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index, Reverse
from lineage.db.record import Record
from lineage.db.space_column import ALL_SPACE_ID, space_field  # noqa: F401 - names of this module too
from lineage.models.named import NamedRecord

#: Name of the space ``all``.
ALL_SPACE_NAME = "all"
#: Roles of a space member, weakest first.
ROLES = ("read", "write", "admin")


class Space(NamedRecord):
    """A space; ``Space(name=...)`` returns the existing one of that name.

    Attributes:
        name: Unique name (``all`` is the space every member reads and writes).
        description: Free text.
    """

    __tablename__ = "space"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "name": Field("text", nullable=False, unique=True),
        "description": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
    }
    relations = {
        "memberships": Reverse("SpaceMember", "space_id"),
        "runs": Reverse("Run", "space_id"),
        "artifacts": Reverse("Artifact", "space_id"),
        "transforms": Reverse("Transform", "space_id"),
    }

    def __init__(self, name: str, description: str | None = None) -> None:
        super().__init__(name, description=description)

    def add_member(self, member: str, role: str = "read") -> SpaceMember:
        """Give PostgreSQL role `member` the role ``read``, ``write`` or ``admin`` here.

        See `lineage.lifecycle.spaces.add_member`.
        """
        from lineage.lifecycle.spaces import add_member

        return add_member(self, member, role)

    def remove_member(self, member: str) -> bool:
        """Take `member` out of this space; True if it was a member."""
        from lineage.lifecycle.spaces import remove_member

        return remove_member(self, member)

    @property
    def members(self) -> list[tuple[str, str]]:
        """(role name, role) of each member this database role may see."""
        from lineage.lifecycle.spaces import members

        return members(self)

    def move_in(self, *records: Record) -> None:
        """Move saved records into this space (each move is a `RecordChange`).

        Raises:
            PermissionDenied: This role may not write a record's space or this one.
        """
        from lineage.lifecycle.spaces import move_to_space

        for record in records:
            move_to_space(record, self)


class SpaceMember(Record):
    """A PostgreSQL role's membership of a space.

    Attributes:
        space_id: The space.
        member: Name of the PostgreSQL role (each team member connects as their own).
        role: ``read``, ``write`` or ``admin`` (admins also manage members).
    """

    __tablename__ = "space_member"
    fields = {
        "space_id": Field("bigint", nullable=False, references="space", index=True),
        "member": Field("str", nullable=False, length=63, index=True),
        "role": Field("str", nullable=False, default="read", length=16),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
    }
    system_fields = frozenset({"space_id", "member", "created_at", "created_by_id"})
    relations = {"space": ForeignKey("space_id", "Space")}
    indexes = (Index("uq_space_member", ("space_id", "member"), unique=True,
                     hint="That role is a member already; change its role instead."),)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)

    @property
    def uid(self) -> str:  # type: ignore[override]
        """Memberships have no uid of their own; space and member stand in."""
        return f"{self.space_id}:{self.member}"
