"""``lineage runs``, ``lineage show UID`` and ``lineage load --key KEY``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click


def register(cli: Any) -> None:
    """Add the run commands to `cli`."""
    cli.add_command(runs)
    cli.add_command(show)
    cli.add_command(load)


def _console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal:  # pipes and files: do not cut columns at 80 characters
        console = Console(soft_wrap=False, width=160)
    return console


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: Any) -> str:
    if run.finished_at is None or run.started_at is None:
        return ""
    seconds = (run.finished_at - run.started_at).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


_STATUS_STYLE = {"completed": "green", "errored": "red", "aborted": "yellow", "started": "cyan"}


@click.command()
@click.option("-n", "--limit", default=20, show_default=True, help="How many runs to show.")
@click.option("--key", default=None, help="Only runs of the transform with this key.")
@click.option("--status", default=None,
              type=click.Choice(["scheduled", "started", "completed", "errored", "aborted"]),
              help="Only runs with this status.")
def runs(limit: int, key: str | None, status: str | None) -> None:
    """List recent runs, newest first."""
    from rich.table import Table

    from lineage.models.run import Run
    from lineage.models.transform import Transform

    lookups: dict[str, Any] = {}
    if key:
        lookups["transform__key"] = key
    if status:
        lookups["status"] = status
    found = Run.filter(**lookups).order_by("-started_at", "-id")[:limit].all()
    keys = {t.id: t.key for t in Transform.filter(id__in=sorted({r.transform_id for r in found}))}
    title = f"{len(found)} most recent run{'s' if len(found) != 1 else ''}" if found else "no runs"
    table = Table(title=title)
    for column in ("uid", "transform", "entrypoint", "status", "started", "duration"):
        table.add_column(column, no_wrap=column in ("uid", "started", "status"), overflow="fold")
    for run in found:
        style = _STATUS_STYLE.get(run.status, "")
        table.add_row(run.uid, keys.get(run.transform_id, "?"), run.entrypoint or "",
                      f"[{style}]{run.status}[/]" if style else run.status,
                      _when(run.started_at), _duration(run))
    _print(table)


@click.command()
@click.argument("uid")
def show(uid: str) -> None:
    """Show everything run UID captured (a uid prefix is enough)."""
    from lineage.models.run import Run

    _print(run_tree(Run.get(uid)))


def run_tree(run: Any) -> Any:
    """A rich Tree describing `run`."""
    from rich.markup import escape
    from rich.tree import Tree

    style = _STATUS_STYLE.get(run.status, "")
    status = f"[{style}]{run.status}[/]" if style else run.status
    tree = Tree(f"[bold]Run {run.uid}[/] {status} {_duration(run)}".rstrip())
    transform = run.transform
    if transform is not None:
        tree.add(f"transform: [bold]{escape(transform.key)}[/] (version {transform.version}, "
                 f"{transform.kind}, uid {transform.uid})")
    if run.entrypoint:
        tree.add(f"entrypoint: {escape(run.entrypoint)}")
    tree.add(f"started: {_when(run.started_at)}   finished: {_when(run.finished_at) or '-'}")
    parent = run.initiated_by_run
    if parent is not None:
        tree.add(f"initiated by: run {parent.uid} ({escape(parent.entrypoint or _key(parent))})")
    if run.external_id:
        tree.add(f"external: {escape(run.external_source or '?')} {escape(run.external_id)}")
    _add_mapping(tree.add("params"), run.params or {})
    if run.cli_args:
        tree.add("cli args: " + escape(" ".join(str(a) for a in run.cli_args)))
    env = run.environment
    if env is not None:
        host = (env.host or {}).get("hostname", "?")
        tree.add(f"environment: Python {env.python_version} on {env.platform}, "
                 f"{len(env.packages or {})} packages, host {escape(str(host))} (uid {env.uid})")
    if run.git:
        g = run.git
        dirty = "dirty" if g.get("dirty") else "clean" if g.get("dirty") is False else "?"
        line = f"git: {(g.get('commit') or 'no commit')[:12]} on {g.get('branch') or 'detached'} ({dirty})"
        node = tree.add(escape(line))
        for name in ("path", "remote", "url"):
            if g.get(name):
                node.add(f"{name}: {escape(str(g[name]))}")
    projects = [p.name for p in run.projects]
    if projects:
        tree.add("projects: " + escape(", ".join(projects)))
    features = run.features.get_values()
    if features:
        _add_mapping(tree.add("features"), features)
    _add_artifacts(tree, "inputs", run.input_artifacts.all())
    _add_artifacts(tree, "outputs", run.output_artifacts.all())
    report = run.report
    if report is not None:
        tree.add(f"report: artifact {report.uid}, {report.size} bytes "
                 f"(read it with ln.Run.get('{run.uid}').report.cache())")
    children = run.initiated_runs.count()
    if children:
        tree.add(f"initiated runs: {children}")
    if run.error:
        lines = run.error.rstrip().splitlines()
        node = tree.add("[red]error[/]")
        for line in lines[-8:]:
            node.add(escape(line))
    return tree


def _key(run: Any) -> str:
    transform = run.transform
    return transform.key if transform is not None else "?"


def _add_mapping(node: Any, values: dict[str, Any]) -> None:
    from rich.markup import escape

    if not values:
        node.add("[dim](none)[/]")
    for name, value in values.items():
        if isinstance(value, dict) and value and not any(k.startswith("__") for k in value):
            _add_mapping(node.add(escape(str(name))), value)
        else:
            node.add(f"{escape(str(name))} = {escape(repr(value))}")


def _add_artifacts(tree: Any, label: str, artifacts: list[Any]) -> None:
    from rich.markup import escape

    if not artifacts:
        return
    node = tree.add(f"{label} ({len(artifacts)})")
    for artifact in artifacts[:50]:
        node.add(f"{escape(artifact.key or '<no key>')} (uid {artifact.uid}, v{artifact.version})")
    if len(artifacts) > 50:
        node.add(f"... {len(artifacts) - 50} more")


@click.command()
@click.option("--key", required=True, help="Transform key, e.g. my_workflow.py.")
@click.option("--version", "version", type=int, default=None, help="Version (default: latest).")
@click.option("--force", is_flag=True, help="Overwrite a different existing file.")
def load(key: str, version: int | None, force: bool) -> None:
    """Write a transform's source back into the dev dir (or the working directory).

    A notebook's code cells are written as a ``.py`` file next to where the
    notebook would be.
    """
    from lineage.errors import DoesNotExist
    from lineage.instance import current_instance
    from lineage.models.transform import Transform

    query = Transform.filter(key=key)
    transform = query.filter(version=version).first() if version else query.filter(is_latest=True).first()
    if transform is None:
        which = f"version {version} of " if version else ""
        raise DoesNotExist(f"no transform {which}{key!r}. List transforms with `lineage runs`.")
    if not transform.source_code:
        raise click.ClickException(f"transform {key!r} (uid {transform.uid}) has no stored source.")
    dev_dir = current_instance().settings.dev_dir
    relative = Path(key[:-len(".ipynb")] + ".py" if key.endswith(".ipynb") else key)
    if relative.is_absolute() or ".." in relative.parts:
        raise click.ClickException(f"refusing to write outside the dev dir: {key!r}")
    target = Path(dev_dir or ".").resolve() / relative
    if target.exists():
        if target.read_text(encoding="utf-8", errors="replace") == transform.source_code:
            click.echo(f"{target} already holds version {transform.version} of {key}")
            return
        if not force:
            raise click.ClickException(
                f"{target} exists and differs from version {transform.version} of {key}; "
                "pass --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(transform.source_code, encoding="utf-8")
    click.echo(f"wrote version {transform.version} of {key} to {target}")


def _print(renderable: Any) -> None:
    try:
        _console().print(renderable)
    except BrokenPipeError:  # `lineage runs | head`
        import os
        import sys

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
