"""The ``lineage`` command line (click): one module per command group.

Each command module exposes ``register(group)``; errors from lineage print
one line (``Error: ...``) and exit with status 1, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

#: Command modules, each with a ``register(group)`` function.
COMMAND_MODULES = (
    "lineage.cli.instance_cmds",
    "lineage.cli.run_cmds",
    "lineage.cli.artifact_cmds",
    "lineage.cli.view_cmds",
    "lineage.cli.ui_cmds",
)


def build() -> Any:
    """The click group with every command registered."""
    import click

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="lineage", prog_name="lineage")
    def cli() -> None:
        """Record and explore where data came from."""

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lineage`` command."""
    from lineage.errors import LineageError

    cli = build()
    try:
        cli.main(args=argv, prog_name="lineage", standalone_mode=False)
    except LineageError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        raise
