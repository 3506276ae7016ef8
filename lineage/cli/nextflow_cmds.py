"""``lineage nextflow weblog`` and ``lineage nextflow import`` (docs/nextflow.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def register(cli: Any) -> None:
    """Add the nextflow group to `cli`."""
    cli.add_command(nextflow)


@click.group()
def nextflow() -> None:
    """Record Nextflow pipelines: a weblog receiver, trace and lineage-store imports."""


def _open(target: str | None) -> None:
    import lineage.instance as instance_module

    if target is not None:
        instance_module.connect(target)


@nextflow.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one; the address is printed).")
@click.option("--token", envvar="LINEAGE_NEXTFLOW_TOKEN", default=None, metavar="USER:PASSWORD",
              help="Credentials every request must carry, as Nextflow's weblog.basicToken "
                   "sends them (also LINEAGE_NEXTFLOW_TOKEN).")
@click.option("--instance", "target", default=None, metavar="PATH|URL",
              help="Instance folder or database URL (default: discovered as for `lineage info`).")
def weblog(host: str, port: int, token: str | None, target: str | None) -> None:
    """Receive `nextflow run ... -with-weblog URL` events and record the run and its tasks.

    Runs until interrupted. Events received twice, out of order, or by a
    receiver restarted mid-run are recorded once.
    """
    from lineage.nextflow.weblog import check_bind, serve

    check_bind(host, token)
    _open(target)
    serve(host=host, port=port, token=token)


@nextflow.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--run-name", default=None,
              help="Name of the workflow run of a trace file (default: the file's name).")
@click.option("--instance", "target", default=None, metavar="PATH|URL",
              help="Instance folder or database URL (default: discovered as for `lineage info`).")
def import_(path: Path, run_name: str | None, target: str | None) -> None:
    """Import a trace file (trace.txt) or a lineage store folder (.lineage/).

    Importing the same thing again changes nothing.
    """
    _open(target)
    if path.is_dir():
        from lineage.nextflow.store import import_store

        summary = import_store(path)
    else:
        from lineage.nextflow.trace import import_trace

        summary = import_trace(path, run_name=run_name)
    click.echo(summary.describe())
