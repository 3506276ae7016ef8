"""Fixtures of the graph tests (helpers live in `graph_helpers`)."""

from __future__ import annotations

from typing import Any

import pytest
from graph_helpers import Lineage


@pytest.fixture
def lin(instance: Any) -> Lineage:
    """A `Lineage` builder on a fresh instance (SQLite and PostgreSQL)."""
    return Lineage()
