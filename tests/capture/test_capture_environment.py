"""Tests for lineage.capture.environment."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.capture.environment import (
    EnvironmentInfo,
    capture_env_vars,
    capture_environment,
    host_facts,
    installed_packages,
    normalize_name,
)

_PROBE = (
    "import json\n"
    "from lineage.capture.environment import capture_environment\n"
    "e = capture_environment()\n"
    "print(json.dumps({'hash': e.hash, 'env_vars': e.env_vars}))\n"
)


def _probe(env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True, text=True, check=True, env=env, cwd=Path(__file__).parent,
    )
    return json.loads(out.stdout)


def test_packages_match_importlib_metadata() -> None:
    env = capture_environment()
    assert env.packages["pytest"] == importlib.metadata.version("pytest")
    expected: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        expected.setdefault(normalize_name(dist.metadata["Name"]), dist.version)
    assert env.packages == expected
    assert list(env.packages) == sorted(env.packages)


def test_package_scan_does_not_read_every_metadata_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("importlib.metadata.distributions() must not be used")

    monkeypatch.setattr(importlib.metadata, "distributions", fail)
    assert installed_packages()["pytest"] == importlib.metadata.version("pytest")


def test_hash_is_stable_across_processes_and_ignores_env_vars() -> None:
    first = _probe()
    env = {**os.environ, "LINEAGE_SOMETHING": "x", "LINEAGE_DB_PASSWORD": "hunter2"}
    second = _probe(env)
    assert re.fullmatch(r"[0-9a-f]{64}", str(first["hash"]))
    assert first["hash"] == second["hash"] == capture_environment().hash
    assert second["env_vars"]["LINEAGE_SOMETHING"] == "x"  # type: ignore[index]
    assert second["env_vars"]["LINEAGE_DB_PASSWORD"] == "***"  # type: ignore[index]


def test_hash_changes_with_packages(tmp_path: Path) -> None:
    (tmp_path / "zz_extra_pkg-1.0.dist-info").mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    assert _probe(env)["hash"] != capture_environment().hash


def test_cached_per_process() -> None:
    assert capture_environment() is capture_environment()
    assert isinstance(capture_environment(), EnvironmentInfo)


def test_environment_fields() -> None:
    env = capture_environment()
    assert env.python_version == ".".join(map(str, sys.version_info[:3]))
    assert env.platform == f"{platform.system()}-{platform.machine()}"
    assert env.host == host_facts()  # stable: nothing volatile in it
    assert env.host["cpu_count"] == os.cpu_count()
    assert env.host["memory_mib"] > 0
    assert set(env.host) == {
        "hostname", "os", "os_release", "machine", "cpu_count", "memory_mib",
        "python_implementation",
    }


def test_installed_packages_parses_directory_names(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "Foo_Bar-1.2.3.dist-info").mkdir()
    (first / "legacy.pkg-0.9-py3.11.egg-info").mkdir()
    (first / "single_file-2.0-py3.11.egg-info").write_text("Metadata-Version: 1.0\n")
    (first / "not_a_dist").mkdir()
    dev = first / "devpkg.egg-info"  # development egg-info: no version in the name
    dev.mkdir()
    (dev / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: DevPkg\nVersion: 0.5.dev1\n")
    (first / "broken.egg-info").mkdir()  # no metadata at all: skipped
    (second / "foo_bar-9.0.dist-info").mkdir()  # shadowed by the first path entry
    (second / "other-3.0.dist-info").mkdir()
    assert installed_packages([str(first), str(tmp_path / "missing"), str(second)]) == {
        "devpkg": "0.5.dev1",
        "foo-bar": "1.2.3",
        "legacy-pkg": "0.9",
        "other": "3.0",
        "single-file": "2.0",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Foo_Bar", "foo-bar"), ("zope.interface", "zope-interface"), ("a--_b", "a-b")],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


def test_env_vars_allowlist_and_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/opt/venv")
    monkeypatch.setenv("LINEAGE_INSTANCE", "postgresql://u:pw@db/x")
    monkeypatch.setenv("LINEAGE_API_TOKEN", "abc")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-captured")
    monkeypatch.setenv("HOME_SOMETHING", "never-captured")
    captured = capture_env_vars()
    assert captured["VIRTUAL_ENV"] == "/opt/venv"
    assert captured["LINEAGE_INSTANCE"] == "postgresql://u:***@db/x"
    assert captured["LINEAGE_API_TOKEN"] == "***"
    assert "AWS_SECRET_ACCESS_KEY" not in captured
    assert "never-captured" not in json.dumps(captured)
