"""Real Snakemake 9 workflows, run with ``snakemake --logger lineage`` in a subprocess.

Each test copies a workflow of tests/workflows/ into its temporary folder
and runs the ``snakemake`` of this environment there; the plugin records
into the test's own lineage instance (named by ``LINEAGE_INSTANCE``, which
`lineage.testing.temporary_instance` sets and the subprocess inherits).
"""

from __future__ import annotations

import pytest
from snakemake_helpers import Snakemake

pytest_plugins = ["lineage.testing"]


@pytest.fixture
def snakemake(lineage_instance, tmp_path):
    """A Snakemake runner in a workflow folder of its own, recording into this test's instance."""
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    return Snakemake(workdir)
