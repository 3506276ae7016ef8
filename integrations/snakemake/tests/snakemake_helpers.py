"""Helpers of the Snakemake tests: a runner of the workflows of tests/workflows/, runs by name.

Imported by name (``from snakemake_helpers import runs_by_name``), never from
`conftest`, whose module name every test folder shares.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

WORKFLOWS = Path(__file__).parent / "workflows"


class Snakemake:
    """Runs Snakemake on a copy of one workflow, in `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def copy(self, name: str) -> Path:
        shutil.copytree(WORKFLOWS / name, self.workdir, dirs_exist_ok=True)
        return self.workdir

    def __call__(self, *args: str, lineage: bool = True, check: bool = True,
                 env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
        if lineage:
            command[3:3] = ["--logger", "lineage"]
        done = subprocess.run(command, cwd=self.workdir, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})
        if check and done.returncode != 0:
            raise AssertionError(f"snakemake failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done


def runs_by_name(workflow_run) -> dict[str, object]:
    """The job runs of a workflow run by ``run.name`` (``count sample=a``)."""
    import lineage as ln

    return {r.name: r for r in ln.Run.filter(initiated_by_run_id=workflow_run.id).all()}
