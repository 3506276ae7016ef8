"""``lineage runs``, ``lineage show UID`` and ``lineage load UID`` / ``lineage load --key KEY``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lineage.models.run import STATUSES


def register(cli: Any) -> None:
    """Add the run commands to `cli`."""
    cli.add_command(runs)
    cli.add_command(show)
    cli.add_command(load)


def _console() -> Any:
    from lineage.graph.describe import stdout_console

    return stdout_console(soft_wrap=False)  # pipes and files: no line is cut


@click.command()
@click.option("-n", "--limit", default=20, show_default=True, help="How many runs to show.")
@click.option("--key", default=None,
              help="Only runs of this transform: its key, file name or path.")
@click.option("--status", default=None,
              type=click.Choice(list(STATUSES)),
              help="Only runs with this status.")
def runs(limit: int, key: str | None, status: str | None) -> None:
    """List recent runs, newest first."""
    from rich.table import Table

    from lineage.graph.describe import duration, status as styled_status, when
    from lineage.models.run import Run
    from lineage.models.transform import Transform, find_transform_key

    lookups: dict[str, Any] = {}
    if key:
        lookups["transform__key"] = find_transform_key(key) or key
    if status:
        lookups["status"] = status
    found = Run.filter(**lookups).order_by("-started_at", "-id")[:limit].all()
    keys = {t.id: t.key for t in Transform.filter(id__in=sorted({r.transform_id for r in found}))}
    title = f"{len(found)} most recent run{'s' if len(found) != 1 else ''}" if found else "no runs"
    table = Table(title=title)
    for column in ("uid", "transform", "entrypoint", "status", "started", "duration"):
        table.add_column(column, no_wrap=column in ("uid", "started", "status"), overflow="fold")
    for run in found:
        table.add_row(run.uid, keys.get(run.transform_id, "?"), run.entrypoint or "",
                      styled_status(run.status), when(run.started_at), duration(run))
    _print(table)


@click.command()
@click.argument("uid")
def show(uid: str) -> None:
    """Show everything run UID captured (a uid prefix is enough)."""
    from lineage.graph.describe import run_tree
    from lineage.models.run import Run

    from lineage.graph.describe import shortens

    _print(run_tree(Run.get(uid), full=not shortens(_console())))


@click.command()
@click.argument("uid", required=False)
@click.option("--key", default=None,
              help="Transform key, file name or path, e.g. my_workflow.py.")
@click.option("--version", "version", type=int, default=None, help="Version (default: latest).")
@click.option("--force", is_flag=True, help="Overwrite a different existing file.")
def load(uid: str | None, key: str | None, version: int | None, force: bool) -> None:
    """Write a transform's source back into the dev dir (or the working directory).

    Give the transform's UID (a prefix is enough; the 12-character stem of a
    family means its latest version) or its --key. A notebook is written as
    the ``.ipynb`` it was (without outputs); a notebook recorded by an
    older lineage, as its code cells only, as a ``.py`` file next to it.
    """
    from lineage.capture.notebook import is_ipynb_text
    from lineage.instance import current_instance

    transform = _find_transform(uid, key, version)
    key = transform.key
    if not transform.source_code:
        raise click.ClickException(f"transform {key!r} (uid {transform.uid}) has no stored source.")
    dev_dir = current_instance().settings.dev_dir
    as_ipynb = key.endswith(".ipynb") and is_ipynb_text(transform.source_code)
    relative = Path(key[:-len(".ipynb")] + ".py" if key.endswith(".ipynb") and not as_ipynb
                    else key)
    if relative.is_absolute() or ".." in relative.parts:
        raise click.ClickException(f"refusing to write outside the dev dir: {key!r}")
    target = Path(dev_dir or ".").resolve() / relative
    if target.exists():
        if _same_source(target, transform.source_code, as_ipynb):
            click.echo(f"{target} already holds version {transform.version} of {key}")
            return
        if not force:
            raise click.ClickException(
                f"{target} exists and differs from version {transform.version} of {key}; "
                "pass --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(transform.source_code, encoding="utf-8")
    click.echo(f"wrote version {transform.version} of {key} to {target}")


def _find_transform(uid: str | None, key: str | None, version: int | None) -> Any:
    from lineage.errors import DoesNotExist
    from lineage.models.transform import Transform, find_transform_key

    if (uid is None) == (key is None):
        raise click.UsageError("give a transform UID or --key KEY (one of them).")
    if uid is not None:
        query = Transform.filter(uid__startswith=uid)
        if version:
            query = query.filter(version=version)
        found = query.order_by("-version")[:100].all()
        if not found:
            raise DoesNotExist(f"no transform with uid {uid!r}. List transforms with `lineage runs`.")
        if len({t.uid[:12] for t in found}) > 1:
            raise click.ClickException(f"{uid!r} matches several transforms; give more of the uid.")
        return found[0]
    key = find_transform_key(key) or key
    query = Transform.filter(key=key)
    transform = query.filter(version=version).first() if version else query.filter(is_latest=True).first()
    if transform is None:
        which = f"version {version} of " if version else ""
        raise DoesNotExist(f"no transform {which}{key!r}. List transforms with `lineage runs`.")
    return transform


def _same_source(target: Path, source: str, as_ipynb: bool) -> bool:
    """Whether `target` holds `source` (a notebook: the same cells, outputs aside)."""
    text = target.read_text(encoding="utf-8", errors="replace")
    if text == source or not as_ipynb:
        return text == source
    from lineage.capture.notebook import notebook_transform_source
    from lineage.errors import ValidationError

    try:
        return notebook_transform_source(target) == source
    except (OSError, ValidationError):
        return False


def _print(renderable: Any) -> None:
    try:
        _console().print(renderable)
    except BrokenPipeError:  # `lineage runs | head`
        import os
        import sys

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
