"""Real Snakemake 9 workflows, run with ``snakemake --logger lineage`` in a subprocess.

Each test copies a workflow of tests/workflows/ into its temporary folder
and runs the ``snakemake`` of this environment there; the plugin records
into the test's own lineage instance (named by ``LINEAGE_INSTANCE``, which
`lineage.testing.temporary_instance` sets and the subprocess inherits).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["lineage.testing"]

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


@pytest.fixture
def snakemake(lineage_instance, tmp_path):
    """A Snakemake runner in a workflow folder of its own, recording into this test's instance."""
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    return Snakemake(workdir)


def runs_by_name(workflow_run) -> dict[str, object]:
    """The job runs of a workflow run by ``run.name`` (``count sample=a``)."""
    import lineage as ln

    return {r.name: r for r in ln.Run.filter(initiated_by_run_id=workflow_run.id).all()}
