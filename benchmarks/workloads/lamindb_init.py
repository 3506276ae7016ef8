"""Create the LaminDB instance used by the workloads (not timed).

Runs the `lamin` command line in this process, exactly as
`lamin init --storage <dir>` would, so the harness's network watch sees it.
"""

import sys

import _common as c

sys.argv = ["lamin", "init", "--storage", c.PARAMS["storage"]]
from lamin_cli.__main__ import main  # noqa: E402

try:
    main()
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
c.emit({})
