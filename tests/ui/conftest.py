"""Fixtures of the UI tests: one instance and one real `lineage ui` server per module.

The server is the real command (``python -m lineage ui --port 0``) in its own
process, on an ephemeral loopback port; tests talk HTTP to it. Helpers the
tests import by name live in `ui_helpers` (a conftest is not importable by
name once two test folders with a conftest are collected together).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from ui_helpers import UIServer, start_ui

import lineage.instance as instance_module


@pytest.fixture(scope="session")
def ui_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """An embedded instance filled by `ui_data.build`: (its folder, the uids)."""
    import ui_data as data

    import lineage as ln

    base = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("LINEAGE_") and name != "LINEAGE_TEST_POSTGRES_URL":
                mp.delenv(name)
        mp.setenv("LINEAGE_CONFIG_DIR", str(base / "config"))
        ln.init(storage=base / "instance")
        ids = data.build(base / "work")
        instance_module.close()
    yield str(base / "instance"), ids


@pytest.fixture(scope="module")
def server(ui_data: tuple[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[UIServer]:
    """`lineage ui` serving `ui_data`."""
    running = start_ui(ui_data[0], env={"LINEAGE_CONFIG_DIR": str(tmp_path_factory.mktemp("c"))})
    yield running
    running.stop()


@pytest.fixture(scope="session")
def ids(ui_data: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Uids of the records `ui_data` made."""
    return ui_data[1]
