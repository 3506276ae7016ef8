"""Fixtures of the artifact tests; plain helpers live in artifact_helpers.py."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lineage as ln
from lineage import testing
from lineage.testing import use_s3_endpoint

from artifact_helpers import _boto_credentials, FaultProxy


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep downloads and data-frame files of PostgreSQL instances out of the home folder."""
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def make_run(instance: Any) -> Iterator[Callable[..., Any]]:
    """Start a run (through the lifecycle) and make it current: ``with make_run() as run``."""
    from contextlib import contextmanager

    from lineage import lifecycle

    transform = lifecycle.get_or_create_transform(f"t_{uuid.uuid4().hex[:6]}.py", "print(1)")

    @contextmanager
    def start(projects: Any = ()) -> Iterator[Any]:
        run = lifecycle.start_run(transform, projects=projects, environment=False)
        activation = lifecycle.activate(run)
        try:
            yield run
        finally:
            lifecycle.deactivate(activation)
            lifecycle.finish_run(run, "completed")

    yield start


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """``immutable(path)``: ``chattr +i`` until the end of the test."""
    done: list[Path] = []

    def make(path: Path) -> None:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        done.append(path)

    yield make
    for path in done:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a standalone moto S3 server on loopback, for the session."""
    with testing.moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def s3_client(moto_server: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=moto_server, **_boto_credentials())


@pytest.fixture
def bucket(s3_client: Any) -> str:
    name = f"lineage-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_instance(instance: Any, moto_server: str, bucket: str,
                monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `instance` with its default storage at ``s3://<new bucket>/prefix``."""
    use_s3_endpoint(monkeypatch, moto_server)
    ln.settings.storage = f"s3://{bucket}/prefix"
    return instance


@pytest.fixture
def fault_proxy(moto_server: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_server)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_s3_instance(instance: Any, fault_proxy: FaultProxy, bucket: str,
                        monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `instance` with its default storage on moto behind `fault_proxy`."""
    use_s3_endpoint(monkeypatch, fault_proxy.url)
    ln.settings.storage = f"s3://{bucket}/prefix"
    return instance

