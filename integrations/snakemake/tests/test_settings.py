"""``--logger-lineage-instance`` and ``--logger-lineage-project``."""

from __future__ import annotations

import json
import subprocess
import sys

import lineage as ln

QUERY = """
import json, sys
import lineage as ln
ln.connect(sys.argv[1])
runs = ln.Run.filter(external_source="snakemake").all()
print(json.dumps({"runs": len(runs),
                  "projects": sorted({p.name for r in runs for p in r.projects.all()}),
                  "artifacts": ln.Artifact.filter().count()}))
"""


def test_the_instance_and_project_given_on_the_command_line(snakemake, tmp_path):
    other = tmp_path / "other-instance"
    subprocess.run([sys.executable, "-c", f"import lineage as ln; ln.init(storage={str(other)!r})"],
                   check=True, capture_output=True)
    snakemake.copy("three_rules")
    done = snakemake("--logger-lineage-instance", str(other), "--logger-lineage-project", "rnaseq")
    assert "could not record" not in done.stderr
    assert ln.Run.filter().count() == 0  # nothing in the current instance
    found = subprocess.run([sys.executable, "-c", QUERY, str(other)], check=True,
                           capture_output=True, text=True)
    facts = json.loads(found.stdout.strip().splitlines()[-1])
    assert facts["runs"] == 6 and facts["projects"] == ["rnaseq"] and facts["artifacts"] == 7
