"""Command-line arguments of the running process."""

from __future__ import annotations

import sys

from lineage.capture.escape import escape_text
from lineage.capture.redact import redact_argv


def capture_cli_args(argv: list[str] | None = None) -> list[str]:
    """Return the command line, redacted; parser-agnostic (click, argparse, typer).

    Args:
        argv: Arguments to capture; defaults to ``sys.argv``. ``argv[0]`` is
            kept as given (not made absolute).

    Returns:
        A new list; secrets replaced as described in `redact_argv`. An
        argument that is not valid text (undecodable bytes, NUL) is stored
        escaped (``data\\xff.csv``, see `lineage.capture.escape`), never refused.
    """
    return redact_argv([escape_text(arg) for arg in (sys.argv if argv is None else argv)])
