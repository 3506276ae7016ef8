"""Feature: a typed, named annotation of runs (``track(features=...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index
from lineage.db.record import Record, current_db
from lineage.errors import ValidationError
from lineage.models.named import NamedRecord
from lineage.db.space_column import space_field

if TYPE_CHECKING:
    from lineage.models.label import Label
    from lineage.models.run import Run

_SIMPLE = {str: "str", int: "int", float: "float", bool: "bool"}


class Feature(NamedRecord):
    """A feature with a name and a dtype.

    Args:
        name: Unique name, used as a keyword in ``track(features=...)`` and
            ``Run.filter(...)``.
        dtype: ``str``, ``int``, ``float``, ``bool`` or a Label type
            (``Label(name=..., is_type=True)``): values must then be labels of
            that type, given as labels or names.
    """

    __tablename__ = "feature"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "name": Field("text", nullable=False, unique=True),
        "dtype": Field("text", nullable=False),
        "description": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(),
    }
    #: Values were validated against ``dtype``: it cannot change under them.
    system_fields = frozenset({"uid", "dtype", "created_at", "created_by_id", "space_id"})

    def __init__(self, name: str, dtype: Any = str, description: str | None = None) -> None:
        super().__init__(name, dtype=_dtype_string(dtype), description=description)

    def label_type(self) -> Label | None:
        """The Label type of a categorical feature, else None."""
        if not self.dtype.startswith("cat[Label:"):
            return None
        from lineage.models.label import Label

        return Label.get(uid=self.dtype[len("cat[Label:"):-1])

    def validate(self, value: Any) -> tuple[Any, int | None]:
        """Check `value` against the dtype; return (stored JSON value, label id).

        Raises:
            ValidationError: The value does not fit the dtype.
        """
        label_type = self.label_type()
        if label_type is not None:
            from lineage.models.label import Label

            name = value.name if isinstance(value, Label) else value
            label = Label.filter(name=name, type_id=label_type.id).first() if isinstance(name, str) else None
            if label is None:
                known = ", ".join(repr(r.name) for r in label_type.records.all()[:20])
                raise ValidationError(
                    f"feature {self.name!r} takes labels of type {label_type.name!r}; {value!r} is "
                    f"not one. Known: {known or 'none'}. Create it with "
                    f"ln.Label(name={name!r}, type=<the {label_type.name} type>).save()."
                )
            return label.name, label.id
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }[self.dtype]
        if not ok:
            raise ValidationError(
                f"feature {self.name!r} has dtype {self.dtype}, got {value!r} "
                f"({type(value).__name__}). Pass a {self.dtype} value."
            )
        return value, None


class FeatureValue(Record):
    """The value of one feature for one run."""

    __tablename__ = "run_feature_value"
    fields = {
        "run_id": Field("bigint", nullable=False, references="run", index=True),
        "feature_id": Field("bigint", nullable=False, references="feature", index=True),
        "value": Field("json"),
        "label_id": Field("bigint", references="label"),
    }
    system_fields = frozenset({"run_id", "feature_id", "label_id", "value"})
    relations = {
        "run": ForeignKey("run_id", "Run"),
        "feature": ForeignKey("feature_id", "Feature"),
        "label": ForeignKey("label_id", "Label"),
    }
    indexes = (
        Index("uq_run_feature", ("run_id", "feature_id"), unique=True),
        # ``Run.filter(<feature>=value)`` on PostgreSQL (see `PostgresDialect.json_equals`).
        Index("ix_run_feature_value_value", ("value",), postgresql_gin="jsonb_path_ops"),
    )

    @property
    def uid(self) -> str:  # type: ignore[override]
        """Feature values have no uid of their own; their id stands in."""
        return str(self.id)


class ArtifactFeatureValue(Record):
    """The value of one feature for one artifact (``artifact.features.add_values``)."""

    __tablename__ = "artifact_feature_value"
    fields = {
        "artifact_id": Field("bigint", nullable=False, references="artifact", index=True),
        "feature_id": Field("bigint", nullable=False, references="feature", index=True),
        "value": Field("json"),
        "label_id": Field("bigint", references="label"),
    }
    system_fields = frozenset({"artifact_id", "feature_id", "label_id", "value"})
    relations = {
        "artifact": ForeignKey("artifact_id", "Artifact"),
        "feature": ForeignKey("feature_id", "Feature"),
        "label": ForeignKey("label_id", "Label"),
    }
    indexes = (
        Index("uq_artifact_feature", ("artifact_id", "feature_id"), unique=True),
        Index("ix_artifact_feature_value_value", ("value",), postgresql_gin="jsonb_path_ops"),
    )

    @property
    def uid(self) -> str:  # type: ignore[override]
        """Feature values have no uid of their own; their id stands in."""
        return str(self.id)


class Features:
    """``run.features`` / ``artifact.features``: read and add feature values of one record."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self._table, self._column = type(record).feature_table  # type: ignore[misc]

    def get_values(self) -> dict[str, Any]:
        """Feature name -> value."""
        if self.record.id is None:
            return {}
        rows = current_db().query(
            f"SELECT f.name, v.value FROM {self._table} v JOIN feature f ON f.id = v.feature_id "
            f"WHERE v.{self._column} = ? ORDER BY f.name",
            [self.record.id],
        )
        dialect = current_db().dialect
        # psycopg returns jsonb already decoded: a JSON string arrives as a str
        # that must not be decoded a second time.
        if dialect.name != "sqlite":
            return dict(rows)
        return {name: dialect.decode("json", value) for name, value in rows}

    def add_values(self, values: dict[str, Any]) -> None:
        """Validate and store feature values (replacing earlier values of the same features).

        Raises:
            ValidationError: The record is not saved, an unknown feature name or
                a value of the wrong type; nothing is stored then.
        """
        kind = type(self.record).__name__
        if self.record.id is None:
            raise ValidationError(
                f"{kind.lower()}.features.add_values(): save the {kind} first (.save()), "
                "then add feature values.")
        if not isinstance(values, dict):
            raise ValidationError(
                f"{kind.lower()}.features.add_values() takes a dict of feature name -> value, "
                f"got {type(values).__name__} {values!r}.")
        resolved = validate_features(values)
        record_id, table, column = self.record.id, self._table, self._column

        def work(conn: Any) -> None:
            for feature, (value, label_id) in resolved:
                conn.execute(f"DELETE FROM {table} WHERE {column} = ? AND feature_id = ?",
                             [record_id, feature.id])
                conn.execute(
                    f"INSERT INTO {table} ({column}, feature_id, value, label_id) "
                    "VALUES (?, ?, ?, ?)",
                    [record_id, feature.id, conn.dialect.encode("json", value), label_id])

        current_db().write(work)


#: ``run.features`` (the name earlier code imports).
RunFeatures = Features


def insert_feature_value(conn: Any, run_id: int, feature_id: int, value: Any,
                         label_id: int | None) -> None:
    """Store one validated feature value of a run (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO run_feature_value (run_id, feature_id, value, label_id) VALUES (?, ?, ?, ?)",
        [run_id, feature_id, conn.dialect.encode("json", value), label_id],
    )


def validate_features(values: dict[str, Any]) -> list[tuple[Feature, tuple[Any, int | None]]]:
    """Resolve and validate feature values before anything is written."""
    resolved = []
    for name, value in values.items():
        feature = Feature.filter(name=name).first()
        if feature is None:
            known = ", ".join(repr(f.name) for f in Feature.filter().all()[:30])
            raise ValidationError(
                f"unknown feature {name!r}. Known features: {known or 'none'}. Create it first: "
                f"ln.Feature(name={name!r}, dtype=str).save()."
            )
        resolved.append((feature, feature.validate(value)))
    return resolved


def feature_lookup(alias: str, head: str, rest: list[str], op: str, value: Any,
                   dialect: Any, *, model: type[Record]) -> tuple[str, list[Any]] | None:
    """SQL for ``model.filter(<feature>=value)`` (Run, Artifact), or None if no such feature.

    The value lookups of JSON fields apply (`lineage.db.lookups`), so
    ``accuracy__gt=0.9`` compares numbers only (a text value never
    compares as a number) and ``__startswith`` / ``__contains`` match text
    only, exactly as ``params__accuracy__gt=0.9`` does.
    """
    from lineage.db.lookups import json_lookup

    if rest:
        return None
    feature = Feature.filter(name=head).first()
    if feature is None:
        return None
    if op in ("isnull", "ne"):
        raise ValidationError(
            f"feature {head!r} cannot be looked up with __{op}; features take exact, __in, "
            "__gt, __gte, __lt, __lte, __startswith, __contains and __endswith lookups "
            "(and their case-insensitive __i... forms).")
    if isinstance(value, (list, tuple, set, frozenset)) and op == "in":
        value = [getattr(v, "name", v) for v in value]
    else:
        value = getattr(value, "name", value)
    where, params = json_lookup(f"{head}__{op}", "value", (), op, value, dialect)
    value_table, column = model.feature_table  # type: ignore[misc]
    return (f"{alias}.id IN (SELECT {column} FROM {value_table} WHERE feature_id = ? AND {where})",
            [feature.id, *params])


def feature_hint(name: str) -> str:
    """The features there are, for the error of a lookup of an unknown `name`."""
    known = [f.name for f in Feature.filter().order_by("name")[:30]]
    return (f" Features: {', '.join(known) or 'none'}; a feature {name!r} is created with "
            f"ln.Feature(name={name!r}, dtype=...).save().")


def _dtype_string(dtype: Any) -> str:
    if dtype in _SIMPLE:
        return _SIMPLE[dtype]
    if isinstance(dtype, str) and (dtype in _SIMPLE.values() or dtype.startswith("cat[Label:")):
        return dtype
    if getattr(dtype, "__tablename__", None) == "label":
        if not dtype.is_type:
            raise ValidationError(f"Label {dtype.name!r} is not a type; create it with is_type=True.")
        if dtype.id is None:
            dtype.save()
        return f"cat[Label:{dtype.uid}]"
    raise ValidationError(
        f"unsupported feature dtype {dtype!r}; use str, int, float, bool or a Label type."
    )
