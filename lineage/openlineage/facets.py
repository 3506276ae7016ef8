"""Names, schema URLs and builders of the OpenLineage facets lineage writes.

The standard facets are those of the OpenLineage 2-0-2 specification; the
run facet ``lineage`` is lineage's own, its JSON schema is
docs/openlineage/LineageRunFacet.json (published at `LINEAGE_FACET_URL`).
"""

from __future__ import annotations

from typing import Any

from lineage._version import __version__

#: The specification the events follow.
SPEC_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT_SCHEMA_URL = f"{SPEC_URL}#/$defs/RunEvent"

#: Who wrote an event or facet: this package at this version.
PRODUCER = f"https://pypi.org/project/lineage/{__version__}/"

#: Facet name -> (schema file, version) in https://openlineage.io/spec/facets/.
STANDARD = {
    "parent": ("ParentRunFacet", "1-2-0"),
    "processing_engine": ("ProcessingEngineRunFacet", "1-1-1"),
    "errorMessage": ("ErrorMessageRunFacet", "1-0-1"),
    "sourceCode": ("SourceCodeJobFacet", "1-0-1"),
    "sourceCodeLocation": ("SourceCodeLocationJobFacet", "1-1-0"),
    "jobType": ("JobTypeJobFacet", "2-0-4"),
    "version": ("DatasetVersionDatasetFacet", "1-0-1"),
    "storage": ("StorageDatasetFacet", "1-0-1"),
    "outputStatistics": ("OutputStatisticsOutputDatasetFacet", "1-0-2"),
}

#: Lineage's own run facet: uid, status, attempt, params, engine ids.
LINEAGE_FACET = "lineage"
LINEAGE_FACET_URL = (f"https://lineage.readthedocs.io/en/{__version__}/openlineage/"
                     "LineageRunFacet.json#/$defs/LineageRunFacet")


def schema_url(name: str) -> str:
    """The ``_schemaURL`` of the standard facet `name` (a key of `STANDARD`)."""
    schema, version = STANDARD[name]
    return f"https://openlineage.io/spec/facets/{version}/{schema}.json#/$defs/{schema}"


def facet(facet_name: str, /, **fields: Any) -> dict[str, Any]:
    """The facet `facet_name` with `fields`; None values are left out."""
    url = LINEAGE_FACET_URL if facet_name == LINEAGE_FACET else schema_url(facet_name)
    return {"_producer": PRODUCER, "_schemaURL": url,
            **{k: v for k, v in fields.items() if v is not None}}
