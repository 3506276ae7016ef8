"""User: who created records (the OS user name, no accounts)."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field
from lineage.db.record import Record


class User(Record):
    """A person or service account that wrote records."""

    __tablename__ = "user_account"
    uid_length = 8
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=8),
        "handle": Field("str", nullable=False, unique=True, length=255),
        "name": Field("str", length=255),
        "created_at": Field("datetime", nullable=False, default=utcnow),
    }
