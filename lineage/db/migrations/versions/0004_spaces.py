"""Spaces: who may read and write which records, enforced by PostgreSQL (schema version 4).

* ``space`` (the space ``all`` is id 1) and ``space_member`` (a PostgreSQL
  role's role in a space: ``read``, ``write`` or ``admin``);
* ``space_id`` (default 1) on run, transform, artifact, project, label,
  feature and record_change; existing rows go to ``all``;
* on PostgreSQL, row-level security on every table holding space-scoped
  rows, link tables included. A role that does not own the tables sees the
  rows of ``all`` and of the spaces it is a member of; it writes only into
  ``all`` and the spaces where it has ``write`` or ``admin``; a trigger
  refuses (SQLSTATE 42501, with the space named) an UPDATE or DELETE of a
  row whose space the role may only read. A link row (``run_input``,
  ``project_artifact``, ...) is visible when both of its ends are, and
  written when its owning end (the run, the artifact) may be written.
  ``record_change`` is append-only for members. The table owner (and a
  superuser) is not subject to these policies: it administers the instance.

SQLite has one user and no roles: there the tables and columns are created
and spaces are labels only (docs/spaces.md).

The policies name the tables of this revision; a later migration that adds
a space-scoped table adds its policies too (``_scoped_table_sql``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(length=40), "sqlite")

#: Tables with their own ``space_id``.
SCOPED = ("transform", "run", "artifact", "project", "label", "feature", "record_change")
#: Link tables: (table, [(column, referenced table, must be writable)]).
LINKS = (
    ("run_input", [("run_id", "run", True), ("artifact_id", "artifact", False)]),
    ("artifact_previous_run", [("artifact_id", "artifact", True), ("run_id", "run", False)]),
    ("project_artifact", [("artifact_id", "artifact", True), ("project_id", "project", False)]),
    ("project_run", [("run_id", "run", True), ("project_id", "project", False)]),
    ("project_transform", [("transform_id", "transform", True), ("project_id", "project", False)]),
    ("artifact_label", [("artifact_id", "artifact", True), ("label_id", "label", False)]),
    ("run_upstream", [("run_id", "run", True), ("upstream_run_id", "run", False)]),
    ("run_feature_value", [("run_id", "run", True), ("feature_id", "feature", False),
                           ("label_id", "label", False)]),
)

_FUNCTIONS = [
    # Ids of the spaces the current role may read (1) or write (2), ``all`` included.
    # Runs as the caller: space_member shows a role its own memberships.
    """
    CREATE FUNCTION lineage_space_ids(min_level integer) RETURNS bigint[]
    LANGUAGE sql STABLE AS $$
        SELECT array_append(coalesce(array_agg(m.space_id), '{}'::bigint[]), 1::bigint)
        FROM space_member m
        WHERE m.member = current_user
          AND (CASE m.role WHEN 'admin' THEN 3 WHEN 'write' THEN 2 ELSE 1 END) >= min_level
    $$
    """,
    # Whether role `who` administers space `sid`. SECURITY DEFINER so the policies of
    # space_member may ask it without recursing into themselves.
    """
    CREATE FUNCTION lineage_is_space_admin(sid bigint, who name) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        SELECT EXISTS (SELECT 1 FROM space_member
                       WHERE space_id = sid AND member = who AND role = 'admin')
    $$
    """,
    # Refuses an UPDATE or DELETE of a row whose space the role may read but not write:
    # the row-level security policies let such a row be seen, this names why it cannot change.
    """
    CREATE FUNCTION lineage_check_space_write() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        space_name text;
    BEGIN
        IF OLD.space_id = ANY (lineage_space_ids(2)) OR EXISTS (
            SELECT 1 FROM pg_roles r, pg_class c
            WHERE r.rolname = current_user AND c.oid = TG_RELID
              AND (r.rolsuper OR r.rolbypassrls OR r.oid = c.relowner)) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        SELECT name INTO space_name FROM space WHERE id = OLD.space_id;
        RAISE EXCEPTION USING
            ERRCODE = '42501',
            MESSAGE = format('permission denied: role %s may read but not change %s id %s, '
                             'which is in space %L', current_user, TG_TABLE_NAME, OLD.id,
                             coalesce(space_name, OLD.space_id::text)),
            HINT = format('An admin of the space gives write access: lineage space add-member %s '
                          '%s --role write', coalesce(space_name, OLD.space_id::text),
                          current_user);
    END
    $$
    """,
]


def _readable(expr: str) -> str:
    return f"{expr} = ANY ((SELECT lineage_space_ids(1))::bigint[])"


def _writable(expr: str) -> str:
    return f"{expr} = ANY ((SELECT lineage_space_ids(2))::bigint[])"


def _scoped_table_sql(table: str, append_only: bool = False) -> list[str]:
    """Row-level security of a table with its own ``space_id``."""
    sql = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY space_select ON {table} FOR SELECT USING ({_readable('space_id')})",
        f"CREATE POLICY space_insert ON {table} FOR INSERT WITH CHECK ({_writable('space_id')})",
    ]
    if not append_only:
        sql += [
            f"CREATE POLICY space_update ON {table} FOR UPDATE USING ({_readable('space_id')}) "
            f"WITH CHECK ({_writable('space_id')})",
            f"CREATE POLICY space_delete ON {table} FOR DELETE USING ({_readable('space_id')})",
            f"CREATE TRIGGER lineage_space_write BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION lineage_check_space_write()",
        ]
    return sql


def _link_table_sql(table: str, ends: list[tuple[str, str, bool]]) -> list[str]:
    """Row-level security of a link table: through the rows it links."""
    seen = " AND ".join(
        f"({column} IS NULL OR EXISTS (SELECT 1 FROM {target} t WHERE t.id = {table}.{column}))"
        for column, target, _ in ends)
    owner = " AND ".join(
        f"EXISTS (SELECT 1 FROM {target} t WHERE t.id = {table}.{column} "
        f"AND {_writable('t.space_id')})"
        for column, target, writable in ends if writable)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY space_select ON {table} FOR SELECT USING ({seen})",
        f"CREATE POLICY space_insert ON {table} FOR INSERT WITH CHECK ({seen} AND {owner})",
        f"CREATE POLICY space_update ON {table} FOR UPDATE USING ({seen} AND {owner}) "
        f"WITH CHECK ({seen} AND {owner})",
        f"CREATE POLICY space_delete ON {table} FOR DELETE USING ({seen} AND {owner})",
    ]


def _space_tables_sql() -> list[str]:
    return [
        "ALTER TABLE space ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY space_select ON space FOR SELECT USING ({_readable('id')})",
        "ALTER TABLE space_member ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY space_select ON space_member FOR SELECT "
        "USING (member = current_user OR lineage_is_space_admin(space_id, current_user))",
        "CREATE POLICY space_insert ON space_member FOR INSERT "
        "WITH CHECK (lineage_is_space_admin(space_id, current_user))",
        "CREATE POLICY space_update ON space_member FOR UPDATE "
        "USING (lineage_is_space_admin(space_id, current_user)) "
        "WITH CHECK (lineage_is_space_admin(space_id, current_user))",
        "CREATE POLICY space_delete ON space_member FOR DELETE "
        "USING (lineage_is_space_admin(space_id, current_user))",
    ]


def upgrade() -> None:
    op.create_table(
        "space",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", _DATETIME, nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name="fk_space_created_by_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("uid"),
    )
    op.execute(
        "INSERT INTO space (uid, name, description, created_at) VALUES ('a11spaceA11a', 'all', "
        "'Readable and writable by every member of the instance', '2026-12-02 00:00:00.000000+00:00')"
    )
    op.create_table(
        "space_member",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("space_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", _DATETIME, nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name="fk_space_member_created_by_id"),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name="fk_space_member_space_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("space_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_space_member_space_id"), ["space_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_space_member_member"), ["member"], unique=False)
        batch_op.create_index("uq_space_member", ["space_id", "member"], unique=True)
    for table in SCOPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("space_id", _ID, nullable=False, server_default="1"))
            batch_op.create_foreign_key(f"fk_{table}_space_id", "space", ["space_id"], ["id"])
            batch_op.create_index(batch_op.f(f"ix_{table}_space_id"), ["space_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in [*_FUNCTIONS, *_space_tables_sql()]:
            op.execute(statement)
        for table in SCOPED:
            for statement in _scoped_table_sql(table, append_only=table == "record_change"):
                op.execute(statement)
        for table, ends in LINKS:
            for statement in _link_table_sql(table, ends):
                op.execute(statement)
    op.execute("UPDATE lineage_instance SET value = '4' WHERE key = 'schema_version'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*SCOPED, *(t for t, _ in LINKS), "space", "space_member"):
            for policy in ("space_select", "space_insert", "space_update", "space_delete"):
                op.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS lineage_space_write ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("DROP FUNCTION lineage_check_space_write()")
        op.execute("DROP FUNCTION lineage_is_space_admin(bigint, name)")
        op.execute("DROP FUNCTION lineage_space_ids(integer)")
    for table in SCOPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_space_id"))
            batch_op.drop_constraint(f"fk_{table}_space_id", type_="foreignkey")
            batch_op.drop_column("space_id")
    op.drop_table("space_member")
    op.drop_table("space")
    op.execute("UPDATE lineage_instance SET value = '3' WHERE key = 'schema_version'")
