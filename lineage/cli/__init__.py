"""The ``lineage`` command line (click): one module per command group.

Each command module exposes ``register(group)``; errors from lineage and
from the operating system print one line (``Error: ...``) and exit with
status 1, never a traceback (see `main`).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

#: Command modules, each with a ``register(group)`` function.
COMMAND_MODULES = (
    "lineage.cli.instance_cmds",
    "lineage.cli.run_cmds",
    "lineage.cli.list_cmds",
    "lineage.cli.artifact_cmds",
    "lineage.cli.view_cmds",
    "lineage.cli.ui_cmds",
    "lineage.cli.openlineage_cmds",
    "lineage.cli.nextflow_cmds",
    "lineage.cli.space_cmds",
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
    """Entry point of the ``lineage`` command.

    Every error a user can act on ends the command in one line on stderr
    (``Error: ...``) and exit status 1: lineage's own errors, and the
    operating system's (a missing or read-only file, a full disk). Only a
    bug in lineage shows a traceback.
    """
    import click

    from lineage.errors import LineageError

    cli = build()
    try:
        cli.main(args=argv, prog_name="lineage", standalone_mode=False)
    except BrokenPipeError:  # `lineage runs | head` closed our output: nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (LineageError, OSError) as exc:
        print(f"Error: {one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("Aborted.", file=sys.stderr)
        sys.exit(130)


def one_line(exc: BaseException) -> str:
    """The message of `exc` on a single line (its lines joined by spaces)."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def open_instance(target: str | None) -> None:
    """Connect to `target` (``--instance``), else require an instance that discovery finds.

    For commands that serve an instance: they must not create a new one.

    Raises:
        InstanceNotFound: No `target` and nothing to discover.
    """
    import lineage.instance as instance_module
    from lineage.errors import InstanceNotFound

    if target is not None:
        instance_module.connect(target)
    elif instance_module.discovered_target() is None:
        raise InstanceNotFound("no lineage instance found here (none in LINEAGE_INSTANCE, in a "
                               ".lineage/ folder above this one, or as the user default). Pass "
                               "--instance PATH|URL, or create one with `lineage init`.")
