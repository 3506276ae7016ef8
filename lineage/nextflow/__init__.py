"""Nextflow pipelines as lineage runs, without Nextflow installed here.

Three doors, all writing through `lineage.lifecycle` only (docs/nextflow.md):

* `lineage.nextflow.weblog`: an HTTP receiver for ``nextflow run ... -with-weblog URL``.
* `lineage.nextflow.trace`: ``lineage nextflow import trace.txt``.
* `lineage.nextflow.store`: ``lineage nextflow import .lineage/`` (Nextflow's lineage store).

`lineage.nextflow.fields` reads Nextflow's trace values (raw or human-readable
units), `lineage.nextflow.record` turns a workflow run and a task into runs.
"""
