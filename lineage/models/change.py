"""RecordChange: who changed which fields of which record, and when."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index
from lineage.db.record import Record
from lineage.db.space_column import space_field


class RecordChange(Record):
    """One saved update of a record (inserts are not logged).

    ``fields`` holds the new values of the changed fields, ``previous`` their
    values before the change (so a corrected run status keeps the earlier one).

    ``ln.RecordChange.filter(registry="Run", record_uid=run.uid)`` shows why
    a `ConflictError` happened.
    """

    __tablename__ = "record_change"
    fields = {
        "registry": Field("str", nullable=False, length=64),
        "record_id": Field("bigint", nullable=False),
        "record_uid": Field("str", nullable=False, length=16),
        "fields": Field("json", nullable=False),
        "previous": Field("json"),
        "changed_at": Field("datetime", nullable=False, default=utcnow),
        "changed_by_id": Field("bigint", references="user_account"),
        "run_id": Field("bigint", references="run"),
        "space_id": space_field(),
    }
    #: The history of changes is append-only.
    system_fields = frozenset({
        "registry", "record_id", "record_uid", "fields", "previous", "changed_at",
        "changed_by_id", "run_id", "space_id",
    })
    relations = {"changed_by": ForeignKey("changed_by_id", "User"), "run": ForeignKey("run_id", "Run")}
    indexes = (Index("ix_record_change_record", ("registry", "record_id")),)

    def __init__(self, **values: object) -> None:
        super().__init__(**values)

    @property
    def uid(self) -> str:  # type: ignore[override]
        """Changes have no uid of their own; their id stands in."""
        return str(self.id)
