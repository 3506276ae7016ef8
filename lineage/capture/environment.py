"""The Python environment and host a run executes in.

Installed distributions are read from the names of ``*.dist-info`` and
``*.egg-info`` entries on ``sys.path`` (``name-version.dist-info``), which is
what ``importlib.metadata`` finds, without opening every METADATA file; only
an entry whose name lacks a version (a development ``name.egg-info``) has its
metadata read. The first entry of a name along ``sys.path`` wins, as for
imports. Names are normalized per PEP 503 (``Foo_Bar`` -> ``foo-bar``).

Host facts come from the standard library (``os.sysconf``), falling back to
psutil only where ``sysconf`` is missing (Windows): importing psutil alone
costs about 20 ms.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from lineage.capture.escape import escape_text
from lineage.capture.redact import REDACTED, is_secret_name, redact_text

_NORMALIZE = re.compile(r"[-_.]+")
_ENV_NAMES = ("VIRTUAL_ENV", "CONDA_DEFAULT_ENV", "CONDA_PREFIX")


@dataclass(frozen=True)
class EnvironmentInfo:
    """What a run's Environment row holds; deduplicated by ``hash``.

    Attributes:
        hash: sha256 hex of the canonical JSON of ``python_version``,
            ``platform``, ``packages`` and ``host`` (all stable on one machine
            and environment, so all runs there share one row).
        python_version: For example ``"3.11.7"``.
        platform: ``"<system>-<machine>"``, for example ``"Linux-x86_64"``.
        packages: Normalized distribution name -> version, sorted by name.
        host: Stable host facts: ``hostname``, ``os``, ``os_release``,
            ``machine``, ``cpu_count``, ``memory_mib``, ``python_implementation``.
        env_vars: ``VIRTUAL_ENV``, ``CONDA_DEFAULT_ENV``, ``CONDA_PREFIX`` and
            ``LINEAGE_*`` variables, redacted. Not part of the hash: they may
            differ between runs, so store them on the run, not on the row.
    """

    hash: str
    python_version: str
    platform: str
    packages: dict[str, str]
    host: dict[str, Any]
    env_vars: dict[str, str] = field(default_factory=dict)


def normalize_name(name: str) -> str:
    """Normalize a distribution name per PEP 503 (lowercase, runs of ``-_.`` -> ``-``)."""
    return _NORMALIZE.sub("-", name).lower()


def _split_name_version(stem: str) -> tuple[str, str | None]:
    # name-version[-pyX.Y[-platform]]; the version is the first part starting with a digit.
    parts = stem.split("-")
    for i in range(1, len(parts)):
        if parts[i][:1].isdigit():
            return "-".join(parts[:i]), parts[i]
    return stem, None


def _metadata_version(path: str) -> tuple[str | None, str | None]:
    from importlib.metadata import PathDistribution
    from pathlib import Path

    dist = PathDistribution(Path(path))
    try:
        return dist.metadata["Name"], dist.version
    except Exception:  # unreadable or broken metadata: skip this entry
        return None, None


def installed_packages(paths: list[str] | None = None) -> dict[str, str]:
    """List installed distributions quickly (method in the module docstring).

    Args:
        paths: Directories to scan; defaults to ``sys.path``.

    Returns:
        Normalized name -> version, sorted by name.
    """
    found: dict[str, str] = {}
    for entry in sys.path if paths is None else paths:
        directory = entry or "."
        if directory.endswith(".egg"):
            name, version = _split_name_version(os.path.basename(directory)[:-4])
            if version:
                found.setdefault(normalize_name(name), version)
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:  # missing directory, zip file, no permission
            continue
        for fname in names:
            if fname.endswith(".dist-info"):
                stem = fname[: -len(".dist-info")]
            elif fname.endswith(".egg-info"):
                stem = fname[: -len(".egg-info")]
            else:
                continue
            name, version = _split_name_version(stem)
            if version is None:
                name, version = _metadata_version(os.path.join(directory, fname))
                if not name or not version:
                    continue
            found.setdefault(normalize_name(name), version)
    return dict(sorted(found.items()))


def _memory_mib() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().total // 2**20)


def host_facts() -> dict[str, Any]:
    """Return stable facts about this machine (nothing volatile such as free memory)."""
    uname = platform.uname()
    return {
        "hostname": uname.node,
        "os": uname.system,
        "os_release": uname.release,
        "machine": uname.machine,
        "cpu_count": os.cpu_count(),
        "memory_mib": _memory_mib(),
        "python_implementation": platform.python_implementation(),
    }


def capture_env_vars() -> dict[str, str]:
    """Return ``VIRTUAL_ENV``, ``CONDA_DEFAULT_ENV``, ``CONDA_PREFIX`` and ``LINEAGE_*``.

    No other environment variable is read. A secret-looking name
    (``LINEAGE_DB_PASSWORD``) gets the value ``***``; URLs in the other
    values are redacted (`redact_text`).

    Returns:
        Name -> value, sorted by name.
    """
    out = {}
    for name, value in sorted(os.environ.items()):
        if name in _ENV_NAMES or name.startswith("LINEAGE_"):
            out[name] = REDACTED if is_secret_name(name) else redact_text(escape_text(value))
    return out


@functools.cache
def capture_environment() -> EnvironmentInfo:
    """Capture the environment once per process (cached); about 2 ms.

    Returns:
        The same `EnvironmentInfo` on every call in this process.
    """
    uname = platform.uname()
    data = {
        "python_version": platform.python_version(),
        "platform": f"{uname.system}-{uname.machine}",
        "packages": installed_packages(),
        "host": host_facts(),
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return EnvironmentInfo(hash=digest, env_vars=capture_env_vars(), **data)
