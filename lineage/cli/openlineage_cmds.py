"""``lineage export openlineage`` (also ``lineage openlineage export``).

Runs as OpenLineage run events, one JSON object a line (docs/openlineage.md).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click


def register(cli: Any) -> None:
    """Add the OpenLineage commands to `cli`."""
    cli.add_command(export_group)
    cli.add_command(openlineage_group)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date or time; give ISO 8601 such as 2026-12-01 or "
            "2026-12-01T08:00:00Z.", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command("openlineage")
@click.option("--since", default=None, metavar="TIME",
              help="Only runs started at or after TIME (ISO 8601, UTC unless it says).")
@click.option("--run", "run_uid", default=None, metavar="UID", help="Only this run.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--namespace", default=None,
              help="Job namespace (default: OPENLINEAGE_NAMESPACE, else 'lineage').")
@click.option("--source/--no-source", default=True, show_default=True,
              help="Include each job's source code (sourceCode facet).")
def export_openlineage(since: str | None, run_uid: str | None, output: Path | None,
                       namespace: str | None, source: bool) -> None:
    """Write runs as OpenLineage run events, one JSON object a line (JSON Lines)."""
    from lineage.openlineage.export import write_events

    options = {"since": _since(since), "run": run_uid, "namespace": namespace,
               "include_source": source}
    if output is None:
        write_events(sys.stdout, **options)
        return
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        count = write_events(out, **options)
    partial.replace(output)
    click.echo(f"wrote {count} event{'s' if count != 1 else ''} to {output}", err=True)


@click.group("export")
def export_group() -> None:
    """Export the instance's records in another format."""


export_group.add_command(export_openlineage)


@click.group("openlineage")
def openlineage_group() -> None:
    """OpenLineage: export runs as events, ingest other tools' events."""


openlineage_group.add_command(export_openlineage, "export")
