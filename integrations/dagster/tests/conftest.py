"""Shared fixtures: a lineage instance per test (summaries of what was recorded: dagster_helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["lineage.testing"]


@pytest.fixture
def instance(lineage_instance: Any) -> Any:
    """A fresh embedded lineage instance, current for the test."""
    return lineage_instance


def _tests_on_pythonpath() -> None:
    """Let Dagster's step processes import the jobs of `dagster_jobs` by module name."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *paths])


_tests_on_pythonpath()
