"""``lineage space ...``: create spaces, manage their members, list them."""

from __future__ import annotations

from typing import Any

import click

from lineage.models.space import ROLES


@click.group("space")
def space_group() -> None:
    """Spaces: who may read and write which records (enforced on PostgreSQL)."""


@space_group.command("create")
@click.argument("name")
@click.option("--description", default=None, help="What the space holds.")
def create(name: str, description: str | None) -> None:
    """Create the space NAME (on PostgreSQL: as the instance owner)."""
    from lineage.lifecycle.spaces import create_space

    space = create_space(name, description)
    click.echo(f"space {space.name!r} ({space.uid})")


@space_group.command("add-member")
@click.argument("name")
@click.argument("user")
@click.option("--role", type=click.Choice(ROLES), default="read", show_default=True,
              help="read: see the records; write: also create and change them; admin: also "
                   "manage members.")
def add_member_cmd(name: str, user: str, role: str) -> None:
    """Give the PostgreSQL role USER a role in the space NAME."""
    from lineage.lifecycle.spaces import add_member

    add_member(name, user, role)
    click.echo(f"{user} has the role {role} in space {name!r}")


@space_group.command("remove-member")
@click.argument("name")
@click.argument("user")
def remove_member_cmd(name: str, user: str) -> None:
    """Take the PostgreSQL role USER out of the space NAME."""
    from lineage.lifecycle.spaces import remove_member

    removed = remove_member(name, user)
    click.echo(f"{user} {'left' if removed else 'was not a member of'} space {name!r}")


@space_group.command("members")
@click.argument("name")
def members_cmd(name: str) -> None:
    """List the members of the space NAME and their roles."""
    from lineage.lifecycle.spaces import members

    rows = members(name)
    if not rows:
        click.echo(f"space {name!r} has no members you can see" if name != "all" else
                   "every member of the instance reads and writes the space 'all'")
    for member, role in rows:
        click.echo(f"{member}\t{role}")


@space_group.command("show")
@click.argument("name")
def show_cmd(name: str) -> None:
    """Show the space NAME: uid, members, storage prefix and its S3 bucket policy."""
    from lineage.lifecycle.spaces import describe_space

    click.echo(describe_space(name))


@space_group.command("list")
def list_cmd() -> None:
    """List the spaces this database role can see."""
    from lineage.models.space import Space

    for space in Space.filter().order_by("id"):
        click.echo(f"{space.name}\t{space.description or ''}")


def register(group: Any) -> None:
    """Add ``lineage space`` to `group`."""
    group.add_command(space_group)
