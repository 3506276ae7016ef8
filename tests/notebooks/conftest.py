"""Fixtures for notebook tests (the helpers are in notebook_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from notebook_helpers import Runners, make_runners, write_notebook


@pytest.fixture
def runners(instance: Any, tmp_path: Path) -> Runners:
    """Notebook runners against the test's instance (SQLite and PostgreSQL)."""
    return make_runners(instance, tmp_path)


@pytest.fixture
def sqlite_runners(sqlite_instance: Any, tmp_path: Path) -> Runners:
    """Notebook runners against a SQLite instance."""
    return make_runners(sqlite_instance, tmp_path)


@pytest.fixture
def notebook_factory(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook of cells into ``tmp_path/notebooks``."""

    def make(name: str, cells: list[dict[str, Any]]) -> Path:
        return write_notebook(tmp_path / "notebooks" / name, cells)

    return make
