"""PostgreSQL roles and the table privileges of an instance's members.

Which rows a member sees and changes is decided by the row-level security
policies of migration 0004 (spaces); which tables a role may touch at all is
decided by the grants here. Only the owner of the tables (the role that
created the instance) can grant. SQLite has no roles: nothing here applies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lineage.errors import ValidationError

if TYPE_CHECKING:
    from lineage.db.database import Connection

#: Tables members read but never write (the owner administers them).
READ_ONLY_TABLES = ("lineage_instance", "space", "alembic_version")

_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$.-]{0,62}$")


def check_role_name(role: str) -> str:
    """`role` if it is a plausible PostgreSQL role name.

    Raises:
        ValidationError: Empty, too long (over 63 bytes) or with characters
            other than letters, digits, ``_``, ``$``, ``.`` and ``-``.
    """
    if not isinstance(role, str) or not _ROLE.match(role):
        raise ValidationError(
            f"{role!r} is not a PostgreSQL role name this instance accepts: use 1 to 63 letters, "
            "digits, '_', '$', '.' or '-', starting with a letter or '_' (the name the member "
            "connects with, as in postgresql://NAME@host/db)."
        )
    return role


def quote_role(role: str) -> str:
    """`role` as a quoted SQL identifier."""
    return '"' + check_role_name(role).replace('"', '""') + '"'


def current_role(conn: Connection) -> str:
    """The role the connection acts as (``current_user``)."""
    return conn.scalar("SELECT current_user")


def role_exists(conn: Connection, role: str) -> bool:
    """Whether the PostgreSQL cluster has a role named `role`."""
    return conn.scalar("SELECT count(*) FROM pg_roles WHERE rolname = ?", [role]) == 1


def bypasses_spaces(conn: Connection) -> bool:
    """Whether the connection's role is exempt from the space policies.

    The owner of the tables, a superuser and a role with ``BYPASSRLS`` see
    and change every row: they administer the instance.
    """
    return bool(conn.scalar(
        "SELECT r.rolsuper OR r.rolbypassrls OR r.oid = c.relowner FROM pg_roles r, pg_class c "
        "WHERE r.rolname = current_user AND c.oid = 'run'::regclass"
    ))


def grant_instance_access(conn: Connection, role: str) -> None:
    """Let `role` use the instance's tables (rows still filtered by spaces).

    Idempotent. Also grants on tables later migrations create, through the
    owner's default privileges.
    """
    name = quote_role(role)
    schema = conn.scalar("SELECT current_schema()")
    schema_sql = '"' + schema.replace('"', '""') + '"'
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema_sql} TO {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema_sql} TO {name}",
        f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(READ_ONLY_TABLES)} FROM {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_sql} TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} GRANT SELECT, INSERT, UPDATE, DELETE "
        f"ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} GRANT USAGE, SELECT ON SEQUENCES "
        f"TO {name}",
    ):
        conn.execute(statement)


def revoke_instance_access(conn: Connection, role: str) -> None:
    """Take back what `grant_instance_access` gave `role`."""
    name = quote_role(role)
    schema = conn.scalar("SELECT current_schema()")
    schema_sql = '"' + schema.replace('"', '""') + '"'
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} REVOKE ALL ON TABLES FROM {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} REVOKE ALL ON SEQUENCES FROM {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_sql} FROM {name}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_sql} FROM {name}",
    ):
        conn.execute(statement)
