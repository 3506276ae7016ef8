"""``lineage export openlineage``, ``lineage serve`` and ``lineage openlineage ingest``.

Runs out as OpenLineage run events (JSON Lines), other tools' events in,
over HTTP or from files (docs/openlineage.md).
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
    cli.add_command(serve)


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


@click.command("ingest")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
def ingest(files: tuple[Path, ...]) -> None:
    """Record OpenLineage run events from FILES (JSON Lines, a JSON list or one event; - is stdin).

    Events already recorded are recognized (same runId), so a file can be
    ingested twice. Invalid events are reported with their line and skipped;
    the exit status is then 1.
    """
    from lineage.errors import ValidationError
    from lineage.openlineage.ingest import ingest_event

    recorded = invalid = 0
    for path in files:
        for where, event, broken in _events(path):
            if broken:
                invalid += 1
                click.echo(f"{where}: {broken}", err=True)
                continue
            try:
                ingest_event(event)
            except ValidationError as exc:
                invalid += 1
                click.echo(f"{where}: {exc}", err=True)
            else:
                recorded += 1
    click.echo(f"recorded {recorded} event{'s' if recorded != 1 else ''}"
               + (f", skipped {invalid} invalid" if invalid else ""))
    if invalid:
        sys.exit(1)


def _events(path: Path) -> Any:
    """(where, event or None, why it is not JSON) for each event in a file."""
    import json

    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None  # JSON Lines (or broken): line by line
    if isinstance(whole, list):
        for index, item in enumerate(whole):
            yield f"{path}: event {index}", item, None
        return
    if isinstance(whole, dict):
        yield str(path), whole, None
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield f"{path}:{number}", json.loads(line), None
            except ValueError as exc:
                yield f"{path}:{number}", None, f"not JSON ({exc})"


openlineage_group.add_command(ingest)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.option("--instance", "target", default=None, metavar="PATH|URL",
              help="Instance folder or database URL (default: discovered as for `lineage info`).")
@click.option("--token", envvar="LINEAGE_SERVE_TOKEN", default=None,
              help="Secret clients send as 'Authorization: Bearer <token>' "
                   "(also LINEAGE_SERVE_TOKEN).")
def serve(host: str, port: int, target: str | None, token: str | None) -> None:
    """Accept OpenLineage events at POST /api/v1/lineage (as Marquez does) and record them.

    Point any OpenLineage producer at it: OPENLINEAGE_URL=http://127.0.0.1:5000
    for the Python client, Airflow's provider, dbt-ol; spark.openlineage.transport.url
    for Spark.
    """
    import lineage.instance as instance_module
    from lineage.cli import open_instance
    from lineage.errors import ValidationError
    from lineage.openlineage.server import ENDPOINT, make_server
    from lineage.ui.security import is_loopback

    if not is_loopback(host) and not token:
        raise ValidationError(
            f"refusing to accept events on {host} without a token: anyone who reaches it could "
            "write runs. Keep the default --host 127.0.0.1, or set --token SECRET (or "
            "LINEAGE_SERVE_TOKEN) and give clients the same secret (OPENLINEAGE_API_KEY).")
    open_instance(target)
    instance_module.current_instance()
    server = make_server(host, port, token)
    click.echo(f"recording OpenLineage events at {server.url}{ENDPOINT} "
               f"(OPENLINEAGE_URL={server.url}); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
