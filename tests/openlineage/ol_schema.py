"""Validation of events against the official OpenLineage JSON schemas.

The schemas are not on PyPI and are never copied into the repository: they
are read from ``LINEAGE_OPENLINEAGE_SPEC``, else ``<repo>/../shared/openlineage-spec``
(where CI keeps them), else, for a git worktree, ``../shared`` beside the main
checkout. Without them, `spec_dir` skips the calling test with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
OWN_FACET = REPO / "docs" / "openlineage" / "LineageRunFacet.json"


def _candidates() -> list[Path]:
    found = []
    if os.environ.get("LINEAGE_OPENLINEAGE_SPEC"):
        found.append(Path(os.environ["LINEAGE_OPENLINEAGE_SPEC"]))
    found.append(REPO.parent / "shared" / "openlineage-spec")
    try:
        common = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        common = ""
    if common:
        main = (REPO / common).resolve().parent
        found.append(main.parent / "shared" / "openlineage-spec")
    return found


@lru_cache(maxsize=1)
def _spec_dir() -> Path | None:
    for path in _candidates():
        if (path / "OpenLineage.json").is_file():
            return path
    return None


def spec_dir() -> Path:
    """The folder of the official schemas, or skip the test saying why."""
    path = _spec_dir()
    if path is None:
        pytest.skip("the official OpenLineage schemas are not here (set LINEAGE_OPENLINEAGE_SPEC "
                    "or put them in ../shared/openlineage-spec); only schema checks are skipped")
    return path


@lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry, Resource

    folder = spec_dir()
    documents = [json.loads((folder / "OpenLineage.json").read_text())]
    documents += [json.loads(p.read_text()) for p in sorted((folder / "facets").glob("*.json"))]
    documents.append(json.loads(OWN_FACET.read_text()))
    return Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in documents)


def _validator(url: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": url}, registry=_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every facet of `event`, with where it was."""
    found = []

    def take(where: str, facets: Any) -> None:
        for name, value in (facets or {}).items():
            found.append((f"{where}.{name}", value))

    take("run", event["run"].get("facets"))
    take("job", event["job"].get("facets"))
    for side in ("inputs", "outputs"):
        for dataset in event.get(side) or []:
            take(f"{side}[{dataset['name']}]", dataset.get("facets"))
            take(f"{side}[{dataset['name']}].io", dataset.get("inputFacets"))
            take(f"{side}[{dataset['name']}].io", dataset.get("outputFacets"))
    return found


def errors(event: dict[str, Any]) -> list[str]:
    """Why `event` is not a valid RunEvent, each facet checked against its ``_schemaURL``."""
    spec = json.loads((spec_dir() / "OpenLineage.json").read_text())["$id"]
    problems = [f"event: {e.message} at {list(e.absolute_path)}"
                for e in _validator(f"{spec}#/$defs/RunEvent").iter_errors(event)]
    if problems:  # the facets are checked once the event's shape is right
        return problems
    for where, value in _facets(event):
        url = value.get("_schemaURL")
        try:
            validator = _validator(url)
            found = list(validator.iter_errors(value))
        except Exception as exc:  # noqa: BLE001 - an unknown schema URL is a problem too
            problems.append(f"{where}: schema {url!r} cannot be used: {exc}")
            continue
        problems += [f"{where}: {e.message} at {list(e.absolute_path)}" for e in found]
    return problems
