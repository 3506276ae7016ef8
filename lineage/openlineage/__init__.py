"""OpenLineage: lineage's runs as OpenLineage run events, and theirs as runs.

* `lineage.openlineage.events`: one run -> its RunEvents (START, then
  COMPLETE / FAIL / ABORT, or OTHER for ``cached`` and ``skipped``).
* `lineage.openlineage.export`: every run of the instance as events,
  streamed in batches (``lineage export openlineage``).
* `lineage.openlineage.ingest`: events of other tools recorded as runs,
  through `lineage.lifecycle` (``lineage serve``, ``lineage openlineage ingest``).
* `lineage.openlineage.emit`: events sent as runs start and finish, when
  configured (off by default).

See docs/openlineage.md. Nothing here is imported by ``import lineage``.
"""
