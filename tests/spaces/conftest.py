"""A team instance on the real PostgreSQL server, owned by its own role, with member roles.

Roles are global to the PostgreSQL cluster, so every name carries a suffix
unique to the test; the roles and the database are dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import lineage.instance as instance_module

MEMBERS = ("alice", "bob", "carol")


@dataclass
class Team:
    """The roles and URLs of one team instance."""

    server: str
    database: str
    owner: str
    roles: dict[str, str]  # short name -> role name

    def url(self, who: str) -> str:
        """The URL with which `who` (``owner`` or a member's short name) connects."""
        role = self.owner if who == "owner" else self.roles[who]
        parts = urlsplit(self.server.replace("postgresql+psycopg://", "postgresql://"))
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=f"{role}@{host}", path="/" + self.database))

    def connect(self, who: str):  # noqa: ANN201 - psycopg connection
        """A raw psycopg connection (autocommit) as `who`: no lineage code in between."""
        import psycopg

        return psycopg.connect(self.url(who), autocommit=True)


def _admin(url: str):  # noqa: ANN202
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.fixture
def team(postgres_server: str, tmp_path: Path) -> Iterator[Team]:
    """An instance created by an owner role (not a superuser) and three member roles."""
    suffix = uuid.uuid4().hex[:8]
    owner = f"lineage_owner_{suffix}"
    roles = {name: f"lineage_{name}_{suffix}" for name in MEMBERS}
    database = f"lineage_spaces_{suffix}"
    with _admin(postgres_server) as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        for role in roles.values():
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
    team = Team(postgres_server, database, owner, roles)
    try:
        import lineage as ln

        ln.init(storage=tmp_path / "storage", db=team.url("owner"))
        yield team
    finally:
        instance_module.close()
        with _admin(postgres_server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in [*roles.values(), owner]:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')
