"""``lineage init``, ``lineage info`` and ``lineage settings``."""

from __future__ import annotations

import warnings
from typing import Any

import click

from lineage.instance_settings import SETTINGS_HELP


def register(cli: Any) -> None:
    """Add the instance commands to `cli`."""
    cli.add_command(init)
    cli.add_command(connect)
    cli.add_command(info)
    cli.add_command(settings_group)


@click.command()
@click.option("--storage", default=".lineage", show_default=True,
              help="Local folder, or s3://bucket/prefix together with --db.")
@click.option("--db", default=None, help="PostgreSQL URL for a team instance (default: embedded SQLite).")
def init(storage: str, db: str | None) -> None:
    """Create an instance (or open the existing one) and make it your default."""
    from lineage.instance import init as init_instance

    instance = init_instance(storage=storage, db=db)
    click.echo(f"instance ready: {instance.slug} (storage {instance.storage_root})")
    _announce_default(instance)


@click.command()
@click.argument("target")
def connect(target: str) -> None:
    """Make the existing instance TARGET (a folder or database URL) your default."""
    from lineage.instance import connect as connect_instance

    instance = connect_instance(target)
    click.echo(f"connected: {instance.slug} (storage {instance.storage_root})")
    _announce_default(instance)


def _announce_default(instance: Any) -> None:
    from lineage.instance import make_user_default

    where = make_user_default(instance)
    if where is None:
        click.echo("note: could not write the user default (the configuration folder is not "
                   "writable); use LINEAGE_INSTANCE to choose this instance", err=True)
        return
    click.echo(f"this is now your default instance, used wherever no LINEAGE_INSTANCE or "
               f".lineage/ folder applies (remembered in {where})")


@click.command()
def info() -> None:
    """Show the current instance, its storage and its counts."""
    from lineage.instance import current_instance
    from lineage.db.migrate import SCHEMA_VERSION

    instance = current_instance()
    db = instance.db
    counts = {}
    for table in ("transform", "run", "artifact", "project"):
        counts[table] = db.query(f"SELECT COUNT(*) FROM {table}")[0][0]
    dev_dir = instance.settings.dev_dir
    click.echo(f"instance:  {instance.slug}")
    if instance.root is not None:
        click.echo(f"location:  {instance.root}")
    click.echo(f"database:  {'SQLite' if db.is_sqlite else 'PostgreSQL'} {db.safe_url}")
    click.echo(f"storage:   {instance.storage_root}")
    click.echo(f"dev-dir:   {dev_dir or '(not set: transform keys are file names)'}")
    click.echo(f"schema:    version {SCHEMA_VERSION}")
    click.echo("records:   " + ", ".join(f"{n} {t}s" for t, n in counts.items()))
    from lineage.lifecycle.spaces import enforcement_summary

    click.echo(f"spaces:    {enforcement_summary(instance)}")


@click.group("settings")
def settings_group() -> None:
    """Read and change settings of the current instance."""


@settings_group.command("set")
@click.argument("name")
@click.argument("value")
def settings_set(name: str, value: str) -> None:
    """Set NAME (dev-dir, storage, ...) to VALUE."""
    from lineage.instance import current_instance
    from lineage.instance_settings import check_name

    key = check_name(name.replace("-", "_"))
    parsed: Any = value
    if value.lower() in ("true", "false") and key.startswith("upon_create"):
        parsed = value.lower() == "true"
    if value.lower() in ("none", "") and key in ("dev_dir", "sync_git_repo", "storage", "space"):
        parsed = None
    instance = current_instance()
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        instance.update_settings({key: parsed})
    click.echo(f"{name} = {getattr(instance.settings, key)}")
    for note in notes:
        click.echo(f"note: {note.message}", err=True)


@settings_group.command("get")
@click.argument("name", required=False)
def settings_get(name: str | None) -> None:
    """Print one setting, or all of them."""
    from lineage.instance import current_instance
    from lineage.instance_settings import check_name

    values = current_instance().settings.model_dump()
    if name:
        click.echo(values[check_name(name.replace("-", "_"))])
        return
    for key in SETTINGS_HELP:
        click.echo(f"{key.replace('_', '-')} = {values[key]}    # {SETTINGS_HELP[key]}")
