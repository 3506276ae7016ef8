"""Label: a categorical value, optionally grouped under a type label."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, ManyToMany, Reverse
from lineage.models.named import NamedRecord
from lineage.db.space_column import space_field


class Label(NamedRecord):
    """A label; ``Label(name="Experiment", is_type=True)`` makes a type.

    Names are unique within their type.
    """

    __tablename__ = "label"
    name_scope = ("type_id",)
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "name": Field("text", nullable=False, index=True),
        "is_type": Field("bool", nullable=False, default=False),
        "type_id": Field("bigint", references="label", index=True),
        "description": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(),
    }
    system_fields = NamedRecord.system_fields | {"space_id"}
    relations = {
        "type": ForeignKey("type_id", "Label"),
        "records": Reverse("Label", "type_id"),
        "artifacts": ManyToMany("artifact_label", "label_id", "artifact_id", "Artifact", editable=True),
        "runs": ManyToMany("run_label", "label_id", "run_id", "Run", editable=True),
        "transforms": ManyToMany("transform_label", "label_id", "transform_id", "Transform", editable=True),
    }

    def __init__(self, name: str, is_type: bool = False, type: Label | None = None,  # noqa: A002
                 description: str | None = None) -> None:
        if type is not None and type.id is None:
            type.save()
        super().__init__(name, is_type=is_type, type_id=type.id if type is not None else None,
                         description=description)
