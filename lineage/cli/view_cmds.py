"""``lineage view KEY_OR_UID -o lineage.svg`` and ``lineage describe KEY_OR_UID``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def register(cli: Any) -> None:
    """Add the view commands to `cli`."""
    cli.add_command(view)
    cli.add_command(describe)


@click.command()
@click.argument("key_or_uid")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write: .svg, .png, .pdf or .dot (default: lineage-<uid>.svg here).")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Follow at most this many edges from the record.")
@click.option("--upstream/--no-upstream", default=True, show_default=True,
              help="Include what the record was derived from.")
@click.option("--downstream/--no-downstream", default=True, show_default=True,
              help="Include what was derived from the record.")
@click.option("--collapse/--no-collapse", default=True, show_default=True,
              help="Merge large groups of look-alike runs and artifacts.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=None,
              help="Draw at most this many nodes, nearest to the record first.")
def view(key_or_uid: str, output: Path | None, depth: int | None, upstream: bool,
         downstream: bool, collapse: bool, max_nodes: int | None) -> None:
    """Draw the lineage of an artifact or run (a key, uid or uid prefix).

    A transform key draws its latest run. Needs Graphviz's `dot` program,
    except for .dot output.
    """
    from lineage.graph.build import lineage_graph, resolve_record
    from lineage.graph.render import output_target, render, simplify

    record = resolve_record(key_or_uid)
    graph = lineage_graph(record, upstream=upstream, downstream=downstream, depth=depth)
    if output is None:
        output = Path(f"lineage-{record.uid}.svg")
    fmt, path = output_target(graph, output, None)
    drawn = simplify(graph, max_nodes=max_nodes) if collapse else graph
    written = render(drawn, path, fmt)
    kinds = [d["kind"] for _, d in graph.nodes(data=True)]
    what = f"{type(record).__name__.lower()} {record.uid}"
    summary = f"{kinds.count('run')} runs, {kinds.count('artifact')} artifacts"
    if drawn.number_of_nodes() != graph.number_of_nodes():
        summary += f", drawn as {drawn.number_of_nodes()} nodes"
    if graph.graph["truncated"]:
        summary += f", cut at depth {depth}"
    if graph.graph.get("hidden_records"):
        summary += f", {graph.graph['hidden_records']} in spaces you cannot read"
    click.echo(f"wrote {written} (lineage of {what}: {summary})")


@click.command()
@click.argument("key_or_uid")
def describe(key_or_uid: str) -> None:
    """Print a summary of an artifact, run or transform (a key, uid or uid prefix)."""
    from lineage.graph.build import resolve_record
    from lineage.graph.describe import describe as describe_record

    describe_record(resolve_record(key_or_uid, transforms=True))
