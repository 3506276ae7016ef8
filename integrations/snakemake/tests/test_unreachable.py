"""Nothing breaks the workflow: the lineage database goes away in the middle of a run."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import lineage as ln
import lineage.instance
import psycopg
from lineage.testing import POSTGRES_ENV, temporary_instance

from snakemake_helpers import Snakemake


def test_the_workflow_succeeds_when_the_database_becomes_unreachable(lineage_postgres_url, tmp_path):
    admin = os.environ[POSTGRES_ENV].replace("postgresql+psycopg://", "postgresql://", 1)
    name = urlsplit(lineage_postgres_url).path.lstrip("/")
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    snakemake = Snakemake(workdir)
    snakemake.copy("unreachable")
    try:
        with temporary_instance(tmp_path, db=lineage_postgres_url):
            done = snakemake(env={"CUT_PYTHON": sys.executable, "CUT_ADMIN_URL": admin,
                                  "CUT_DATABASE": name})
            assert (workdir / "after.txt").read_text() == "after\n"
            warnings = [line for line in done.stderr.splitlines() if "could not record" in line]
            assert len(warnings) == 1, done.stderr  # logged once
            assert "DatabaseUnreachable" in warnings[0] or "OperationalError" in warnings[0]
            assert "stops recording this workflow run" in done.stderr
            _allow(admin, name)
            lineage.instance.close()  # the broken connection is not reused
            runs = {r.entrypoint: r for r in ln.Run.filter(external_source="snakemake").all()}
            assert runs["before"].status == "completed"  # recorded while the database was there
            assert "after" not in runs  # the workflow went on unrecorded
    finally:
        _allow(admin, name)


def _allow(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
