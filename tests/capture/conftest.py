"""Fixtures for the capture tests: real git repositories in temporary folders.

The ``git`` fixture itself is in tests/conftest.py (the tracking tests use it too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GitRunner = Callable[..., str]


@pytest.fixture
def repo(tmp_path: Path, git: GitRunner) -> Path:
    """A repository on branch ``main`` with one commit holding ``pipelines/train.py``."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    script = root / "pipelines" / "train.py"
    script.parent.mkdir()
    script.write_text("print('train')\n")
    (root / "README.md").write_text("readme\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root
