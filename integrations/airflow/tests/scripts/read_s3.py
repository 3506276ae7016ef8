"""A tracked script (not Airflow code) that reads an S3 object given on its command line."""

import sys

import lineage as ln

ln.track()
artifact = ln.Artifact(sys.argv[1])  # unchanged content registered before: that artifact
with artifact.open() as f:
    print(len(f.read().splitlines()) - 1, "rows")
ln.finish()
