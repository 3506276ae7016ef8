"""The test suite's own hygiene: helpers are imported from named modules, never `conftest`.

Every test folder has a ``conftest.py``; pytest imports each one as the
module ``conftest``, so ``from conftest import x`` finds whichever folder's
conftest came last and fails when folders are collected together
("cannot import name 'x' from 'conftest'").
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
CONFTEST_IMPORT = re.compile(r"^\s*(from\s+conftest\s+import|import\s+conftest\b)", re.MULTILINE)


def test_no_test_module_imports_helpers_from_conftest() -> None:
    """Neither here nor in the integrations' suites (integrations/<tool>/tests)."""
    root = TESTS.parent
    paths = [*TESTS.rglob("*.py"), *root.glob("integrations/*/tests/**/*.py")]
    offenders = [str(path.relative_to(root)) for path in sorted(paths)
                 if CONFTEST_IMPORT.search(path.read_text(encoding="utf-8"))]
    assert offenders == [], (
        f"{offenders} import from `conftest`; move the helpers into a named module "
        "(like tests/ui/ui_helpers.py) and import that")


def test_ui_and_nextflow_tests_collect_together_and_alone() -> None:
    for folders in (["ui", "nextflow"], ["nextflow", "ui"], ["ui"], ["nextflow"]):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             *(str(TESTS / f) for f in folders)],
            capture_output=True, text=True, cwd=TESTS.parent, timeout=240)
        assert done.returncode == 0, (folders, done.stdout[-2000:], done.stderr[-2000:])
