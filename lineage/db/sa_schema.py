"""SQLAlchemy tables built from the field specs, for migrations and checks.

Imported only by migrations, `lineage doctor` and tests: SQLAlchemy is not
needed to read or write records.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from lineage.db.fields import Field, LinkTable

#: Key/value table holding the schema version and instance facts.
INSTANCE_TABLE = "lineage_instance"


def column_type(spec: Field) -> Any:
    """The SQLAlchemy type of a field."""
    return {
        "int": sa.Integer(),
        "bigint": sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        "str": sa.String(spec.length or 255),
        "text": sa.Text(),
        "bool": sa.Boolean(),
        "float": sa.Float(),
        "json": sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
        "datetime": sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite"),
    }[spec.kind]


def build_metadata(dialect: str | None = None) -> sa.MetaData:
    """A `MetaData` with every registry, link and instance table.

    Args:
        dialect: ``sqlite`` or ``postgresql``: only the indexes that exist
            there (PostgreSQL's GIN indexes); None for all.
    """
    from lineage.db import provider
    from lineage.db.record import all_registries

    metadata = sa.MetaData()
    sa.Table(
        INSTANCE_TABLE, metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=True),
    )
    for registry in all_registries():
        columns = [sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                             primary_key=True, autoincrement=True)]
        for name, spec in registry.fields.items():
            columns.append(_column(registry.__tablename__, name, spec))
        table = sa.Table(registry.__tablename__, metadata, *columns)
        for index in registry.indexes:
            if not index.applies_to(dialect):
                continue
            where = sa.text(index.where) if index.where else None
            options: dict[str, Any] = {}
            if index.postgresql_gin:
                options = {"postgresql_using": "gin",
                           "postgresql_ops": {c: index.postgresql_gin for c in index.columns}}
            sa.Index(index.name, *[table.c[c] for c in index.columns], unique=index.unique,
                     sqlite_where=where, postgresql_where=where, **options)
    for link in provider.get().link_tables():
        _link_table(metadata, link)
    return metadata


#: Foreign keys that close a cycle (run.report_id -> artifact, artifact.run_id -> run):
#: created after both tables.
_CYCLIC_REFERENCES = {("run", "artifact")}


def _column(table: str, name: str, spec: Field) -> sa.Column:
    args: list[Any] = [column_type(spec)]
    if spec.references:
        args.append(sa.ForeignKey(f"{spec.references}.id", name=f"fk_{table}_{name}",
                                  ondelete=spec.on_delete,
                                  use_alter=(table, spec.references) in _CYCLIC_REFERENCES))
    return sa.Column(name, *args, nullable=spec.nullable, index=spec.index or None,
                     unique=spec.unique or None, server_default=spec.server_default)


def _link_table(metadata: sa.MetaData, link: LinkTable) -> sa.Table:
    (left, left_table), (right, right_table) = link.left, link.right
    idtype = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Table(
        link.name, metadata,
        sa.Column(left, idtype, sa.ForeignKey(f"{left_table}.id", name=f"fk_{link.name}_{left}"),
                  primary_key=True),
        sa.Column(right, idtype, sa.ForeignKey(f"{right_table}.id", name=f"fk_{link.name}_{right}"),
                  primary_key=True, index=True),
        *[_column(link.name, name, spec) for name, spec in link.extra.items()],
    )


def sqlalchemy_url(db_url: str) -> str:
    """The SQLAlchemy URL for a lineage database URL (psycopg 3 for PostgreSQL)."""
    if db_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db_url.split("://", 1)[1]
    return db_url
