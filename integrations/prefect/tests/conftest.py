"""One Prefect test server for the whole session; a lineage instance per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

pytest_plugins = ["lineage.testing"]

_prefect_home: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Before Prefect reads its settings: its home (results, cache records) is
    # this session's own, and nothing is sent anywhere.
    home = tempfile.mkdtemp(prefix="lineage-prefect-home-")
    _prefect_home.append(home)
    os.environ["PREFECT_HOME"] = home
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _prefect_home:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A temporary Prefect server and database for the session (its API URL).

    ``LINEAGE_TEST_PREFECT_API_URL`` names a running server to use instead
    (a developer's, to skip the server start while iterating).
    """
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    running = os.environ.get("LINEAGE_TEST_PREFECT_API_URL")
    if running:
        with temporary_settings({PREFECT_API_URL: running}):
            yield running
        return
    # On a busy 2-core machine the server can take more than Prefect's default 30 s.
    with prefect_test_harness(server_startup_timeout=240):
        yield str(get_current_settings().api.url)


@pytest.fixture
def instance(prefect_server: str, lineage_instance: Any) -> Any:
    """A lineage instance of its own, with the session's Prefect server running."""
    return lineage_instance
