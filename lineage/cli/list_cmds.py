"""``lineage transforms``, ``lineage artifacts`` and ``lineage delete``: as ``lineage runs`` does for runs."""

from __future__ import annotations

from typing import Any

import click


def register(cli: Any) -> None:
    """Add the listing commands to `cli`."""
    cli.add_command(transforms)
    cli.add_command(artifacts)
    cli.add_command(delete)


def _title(found: list[Any], what: str) -> str:
    if not found:
        return f"no {what}s"
    return f"{len(found)} most recent {what}{'s' if len(found) != 1 else ''}"


@click.command()
@click.option("-n", "--limit", default=20, show_default=True, help="How many to show.")
@click.option("--key", default=None, help="Only keys that start with this, e.g. pipelines/.")
@click.option("--kind", default=None, help="Only this kind: script, notebook, flow, ...")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
def transforms(limit: int, key: str | None, kind: str | None, all_versions: bool) -> None:
    """List transforms (scripts, notebooks, flows), newest first."""
    from rich.table import Table

    from lineage.graph.describe import version_text, when
    from lineage.models.transform import Transform

    lookups: dict[str, Any] = {} if all_versions else {"is_latest": True}
    if key:
        lookups["key__startswith"] = key
    if kind:
        lookups["kind"] = kind
    found = Transform.filter(**lookups).order_by("-created_at", "-id")[:limit].all()
    table = Table(title=_title(found, "transform"))
    for column in ("uid", "key", "version", "kind", "runs", "created"):
        table.add_column(column, no_wrap=column in ("uid", "created"), overflow="fold")
    for transform in found:
        table.add_row(transform.uid, transform.key, version_text(transform), transform.kind,
                      str(transform.runs.count()), when(transform.created_at))
    _print(table)


@click.command()
@click.option("-n", "--limit", default=20, show_default=True, help="How many to show.")
@click.option("--key", default=None, help="Only keys that start with this, e.g. raw/.")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
def artifacts(limit: int, key: str | None, all_versions: bool) -> None:
    """List artifacts, newest first."""
    from rich.table import Table

    from lineage.artifact import Artifact
    from lineage.graph.describe import human_size, when
    from lineage.models.run import Run

    lookups: dict[str, Any] = {} if all_versions else {"is_latest": True}
    if key:
        lookups["key__startswith"] = key
    found = Artifact.filter(**lookups).order_by("-created_at", "-id")[:limit].all()
    runs = {r.id: r.uid for r in Run.filter(id__in=sorted({a.run_id for a in found if a.run_id}))}
    table = Table(title=_title(found, "artifact"))
    for column in ("uid", "key", "version", "size", "run", "created"):
        table.add_column(column, no_wrap=column in ("uid", "created", "run"), overflow="fold")
    for artifact in found:
        table.add_row(artifact.uid, artifact.key or artifact.description or "", f"v{artifact.version}",
                      human_size(artifact.size), runs.get(artifact.run_id, ""),
                      when(artifact.created_at))
    _print(table)


@click.command()
@click.argument("uid", required=False)
@click.option("--key", default=None, help="The artifact's key (its latest version, or --version).")
@click.option("--version", "version", type=int, default=None, help="Version of --key.")
def delete(uid: str | None, key: str | None, version: int | None) -> None:
    """Delete one artifact: by UID (a unique prefix is enough) or by --key.

    Exactly what ``artifact.delete()`` does: the record and its links go,
    the stored object too unless another artifact holds the same content,
    and the key's newest remaining version becomes the latest.
    """
    from lineage.artifact import Artifact
    from lineage.errors import DoesNotExist

    if (uid is None) == (key is None):
        raise click.UsageError("give an artifact UID or --key KEY (one of them).")
    if uid is not None:
        found = Artifact.filter(uid__startswith=uid)[:2].all()
        if len(found) > 1:
            raise click.ClickException(f"{uid!r} matches several artifacts; give more of the uid.")
        if not found:
            raise DoesNotExist(f"no artifact with uid {uid!r}. List them with `lineage artifacts`.")
    else:
        query = Artifact.filter(key=key)
        query = query.filter(version=version) if version else query.filter(is_latest=True)
        found = query[:1].all()
        if not found:
            which = f"version {version} of " if version else ""
            raise DoesNotExist(f"no artifact {which}{key!r}. List them with `lineage artifacts`.")
    artifact = found[0]
    shown = f"{artifact.uid} ({artifact.key or 'no key'} v{artifact.version})"
    artifact.delete()
    click.echo(f"deleted artifact {shown}")


def _print(renderable: Any) -> None:
    from lineage.cli.run_cmds import _print as print_table

    print_table(renderable)
