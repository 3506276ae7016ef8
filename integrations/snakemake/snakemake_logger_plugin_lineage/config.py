"""The config of a workflow run: ``run.params`` of the workflow run."""

from __future__ import annotations

import json
import os
from typing import Any

from snakemake_logger_plugin_lineage import internals


def read_config(workdir: str, configfiles: list[str]) -> dict[str, Any] | None:
    """The workflow's config (with ``--config`` overrides), else the merged config files."""
    try:
        config = internals.workflow_config()
    except Exception:  # noqa: BLE001 - a private API: fall back to the public route
        config = None
    if config is not None:
        return config
    merged: dict[str, Any] = {}
    for name in configfiles:
        loaded = _load(os.path.join(workdir, name))
        if isinstance(loaded, dict):
            merged.update(loaded)
    return merged or None


def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    if path.endswith(".json"):
        return json.loads(text)
    import yaml  # Snakemake's own dependency: this module only runs inside Snakemake

    return yaml.safe_load(text)
