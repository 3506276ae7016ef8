"""Fixtures for the tracking tests: scripts run in fresh interpreters.

`run_script` runs a Python script as a real subprocess whose
``LINEAGE_INSTANCE`` points at the test's instance (SQLite folder or
PostgreSQL URL), so the tests assert what a real process stored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@dataclass
class ScriptRunner:
    """Runs scripts against one instance."""

    env: dict[str, str]
    cwd: Path
    extra: dict[str, str] = field(default_factory=dict)

    def environ(self, extra_env: dict[str, str] | None = None) -> dict[str, str]:
        env = {**self.env, **self.extra, **(extra_env or {})}
        return env

    def __call__(self, script: Path, *args: str, check: bool = True, cwd: Path | None = None,
                 extra_env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, str(script), *args], cwd=cwd or self.cwd, env=self.environ(extra_env),
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{script.name} exited with {result.returncode}\n--- stdout\n{result.stdout}\n"
                f"--- stderr\n{result.stderr}")
        return result

    def popen(self, script: Path, *args: str, cwd: Path | None = None) -> subprocess.Popen:
        """Start a script with default SIGINT handling and piped output."""

        def restore_signals() -> None:  # a background shell may have ignored SIGINT
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        return subprocess.Popen(
            [sys.executable, str(script), *args], cwd=cwd or self.cwd, env=self.environ(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=restore_signals,
        )


@pytest.fixture
def run_script(instance, tmp_path: Path) -> ScriptRunner:  # noqa: ANN001 - fixture type
    """Run scripts in fresh interpreters against the test's instance."""
    target = str(instance.root) if instance.root is not None else instance.db.url
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_INSTANCE"] = target
    env["LINEAGE_CONFIG_DIR"] = os.environ["LINEAGE_CONFIG_DIR"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return ScriptRunner(env, cwd)


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented script into a scripts folder and return its path."""
    folder = tmp_path / "scripts"
    folder.mkdir()

    def write(name: str, code: str) -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(code).lstrip())
        return path

    return write


@pytest.fixture
def finish_tracked():  # noqa: ANN201
    """Finish a run left tracked by an in-process test, whatever happened."""
    yield
    from lineage import tracking

    if tracking.tracked_run() is not None:
        tracking.finish()
