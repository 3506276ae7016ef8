"""One virtual environment per tool, created and cached by the benchmark.

Layout: ``benchmarks/.venvs/<tool>/`` (ignored by git), made with
``python -m venv`` from the interpreter that runs the harness, then
``pip install <spec>``:

- lineage: ``pip install -e <repo>[all]`` (or the harness's own interpreter
  with ``--no-venv``)
- lamindb: ``pip install lamindb``
- mlflow: ``pip install mlflow``

A venv is reused while it is healthy: its python runs, the tool's
distribution is installed, and the spec it was made from (kept in
``.bench-env.json`` inside the venv) is unchanged. A broken venv is removed and
made again. A failed installation is not fatal: the tool is reported as
"not available: <error text>" and the benchmark goes on with the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VENVS = BENCH_DIR / ".venvs"
MARKER = ".bench-env.json"

# Distributions whose versions are recorded next to each tool's own.
DISTS = {
    "lineage": ["lineage", "sqlalchemy", "networkx"],
    "lamindb": ["lamindb", "lamindb-core", "lamindb_setup", "lamin_cli", "django"],
    "mlflow": ["mlflow", "mlflow-skinny", "sqlalchemy"],
}
DEFAULT_SPECS = {
    "lineage": f"-e {REPO}[all]",
    "lamindb": "lamindb",
    "mlflow": "mlflow",
}
INSTALL_TIMEOUT_S = 1800


@dataclass
class ToolEnv:
    """Where a tool runs, or why it cannot."""

    name: str
    python: str | None = None
    available: bool = False
    error: str | None = None
    spec: str = ""
    versions: dict = field(default_factory=dict)
    venv: str | None = None
    action: str = ""  # "reused", "created", "reinstalled", "current interpreter"
    setup_s: float = 0.0  # time spent creating/installing in this invocation

    @property
    def version(self) -> str | None:
        return self.versions.get(self.name)

    def as_dict(self) -> dict:
        return {
            "available": self.available,
            "error": self.error,
            "version": self.version,
            "versions": self.versions,
            "python": self.python,
            "venv": self.venv,
            "spec": self.spec,
            "env_action": self.action,
            "env_setup_s": round(self.setup_s, 2),
        }


def _tail_error(text: str, lines: int = 12) -> str:
    """The useful part of a failed pip run: its ERROR lines, else its tail."""
    errors = [line for line in text.splitlines() if line.startswith("ERROR")]
    chosen = errors or [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(chosen).strip()[:2000] or "(no output)"


def _versions(python: str, name: str, extra_env: dict | None = None) -> dict | str:
    """Installed versions of the tool's distributions, or an error text."""
    code = (
        "import importlib.metadata as m, json, platform\n"
        f"names = {DISTS[name]!r}\n"
        "out = {'python': platform.python_version()}\n"
        "for n in names:\n"
        "    try: out[n.replace('-', '_').lower()] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    env = dict(os.environ, **(extra_env or {}))
    try:
        proc = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=120, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0:
        return _tail_error(proc.stderr)
    out = json.loads(proc.stdout)
    if name.lower() not in out:
        return f"distribution {name!r} is not installed in {python}"
    return out


def _spec_fingerprint(name: str, spec: str) -> str:
    """What the venv was made from; for lineage also its pyproject.toml, so a
    change of dependencies triggers a reinstall."""
    h = hashlib.sha256(spec.encode())
    if name == "lineage":
        pyproject = REPO / "pyproject.toml"
        if pyproject.exists():
            h.update(pyproject.read_bytes())
    return h.hexdigest()[:16]


def _pip_install(python: str, spec: str, log) -> str | None:
    """Install spec; None on success, else the error text."""
    args = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    args += spec.split(" ", 1) if spec.startswith("-e ") else [spec]
    log(f"  $ {' '.join(args[1:])}")
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"pip install {spec} timed out after {INSTALL_TIMEOUT_S} s"
    if proc.returncode != 0:
        return f"pip install {spec} failed: " + _tail_error(proc.stderr + "\n" + proc.stdout)
    return None


def ensure(name: str, spec: str | None = None, no_venv: bool = False, log=print) -> ToolEnv:
    """Return a ready environment for tool `name`, creating it if needed."""
    spec = spec or DEFAULT_SPECS[name]
    env = ToolEnv(name=name, spec=spec)
    t0 = time.perf_counter()

    if no_venv:
        env.python = sys.executable
        env.action = "current interpreter"
        env.spec = "(current interpreter)"
        versions = _versions(sys.executable, name, {"PYTHONPATH": str(REPO)})
        if isinstance(versions, str):
            # lineage from the source tree without being installed is fine
            if name == "lineage":
                versions = {"lineage": "source tree", "python": sys.version.split()[0]}
            else:
                env.error = versions
                return env
        env.versions, env.available = versions, True
        return env

    venv = VENVS / name
    env.venv = str(venv)
    python = venv / "bin" / "python"
    marker = venv / MARKER
    fingerprint = _spec_fingerprint(name, spec)

    state = None
    if python.exists():
        versions = _versions(str(python), name)
        meta = json.loads(marker.read_text()) if marker.exists() else None
        if isinstance(versions, str):
            state = "broken"
        elif meta is None and spec == DEFAULT_SPECS[name]:
            state = "adopt"  # made by hand or by an older harness: keep it
        elif meta is None or meta.get("spec") != spec:
            state = "broken"
        elif meta.get("fingerprint") != fingerprint:
            state = "reinstall"
        else:
            state = "ok"
    if state in ("ok", "adopt"):
        env.python, env.versions, env.available = str(python), versions, True
        env.action = "reused"
        if state == "adopt":
            marker.write_text(json.dumps({"spec": spec, "fingerprint": fingerprint}))
        return env

    if state == "reinstall":
        log(f"[env] {name}: dependencies changed, reinstalling into {venv}")
        err = _pip_install(str(python), spec, log)
        env.action = "reinstalled"
    else:
        if venv.exists():
            log(f"[env] {name}: venv at {venv} is broken or stale, re-creating it")
            shutil.rmtree(venv)
        log(f"[env] {name}: creating {venv} and installing {spec} (takes minutes)")
        VENVS.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            err = "python -m venv failed: " + _tail_error(proc.stderr + proc.stdout)
        else:
            err = _pip_install(str(python), spec, log)
        env.action = "created"
    env.setup_s = time.perf_counter() - t0
    if err:
        env.error = err
        return env
    versions = _versions(str(python), name)
    if isinstance(versions, str):
        env.error = versions
        return env
    marker.write_text(json.dumps({"spec": spec, "fingerprint": fingerprint}))
    env.python, env.versions, env.available = str(python), versions, True
    log(f"[env] {name}: ready in {env.setup_s:.0f} s ({name} {env.version})")
    return env
