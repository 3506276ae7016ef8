"""``lineage ui``: browse the instance in a web browser (read-only)."""

from __future__ import annotations

from typing import Any

import click


def register(cli: Any) -> None:
    """Add the ui command to `cli`."""
    cli.add_command(ui)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.option("--instance", "target", default=None, metavar="PATH|URL",
              help="Instance folder or database URL (default: discovered as for `lineage info`).")
@click.option("--token", envvar="LINEAGE_UI_TOKEN", default=None,
              help="Secret every request must carry (also LINEAGE_UI_TOKEN).")
def ui(host: str, port: int, target: str | None, token: str | None) -> None:
    """Serve a read-only web UI of the instance: runs, lineage graphs, artifacts, comparisons.

    Open the printed address in a browser. The same data is a JSON API under
    /api/ (OpenAPI at /api/openapi.json). Needs the `ui` extra:
    pip install 'lineage[ui]'.
    """
    from lineage.cli import open_instance
    from lineage.ui.security import check_bind
    from lineage.ui.server import missing_dependencies, serve

    missing = missing_dependencies()
    if missing:
        raise click.ClickException(
            f"`lineage ui` needs {', '.join(missing)}: pip install 'lineage[ui]'.")
    check_bind(host, token)
    open_instance(target)
    try:
        serve(host=host, port=port, token=token)
    except KeyboardInterrupt:
        pass
