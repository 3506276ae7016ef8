"""Extract the code blocks of README.md and docs/*.md and run them as written.

Python (``python``/``py``) and shell (``bash``/``sh``/``shell``/``console``)
blocks run; other fences (``text``, ``json``, ``yaml``, ``sql``, untagged ...)
are not code to run. ``<!-- snippet: skip (reason) -->`` on the line right
before a block skips it, and the reason is required.
``<!-- snippet: needs (prefect) -->`` marks a block that needs a workflow
engine: the core suite skips it ("runs in integrations/prefect's suite") and
the integration's own suite runs it (``run_document(path, engines={"prefect"})``).
In ``console`` blocks
only the ``$ `` lines run; the rest is output.

``python -m tests.docs.doc_snippets [--engine NAME] [FILE ...]`` runs documents
from the command line (``--engine prefect`` runs the ``needs (prefect)`` blocks too); ``run_document`` is what tests/docs/test_snippets.py calls.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_LANGS = {"python", "py", "python3"}
SHELL_LANGS = {"bash", "sh", "shell", "console"}
_FENCE = re.compile(r"^```([^\s`]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_INSTALLS = re.compile(r"\b(pip|uv pip|conda|apt-get|docker)\s+(install|run)\b|scripts/(demo|test)\.sh")
_MARKER = re.compile(r"<!--\s*snippet:\s*(\w+)(?:\s*\((.*?)\))?\s*-->\s*$")


@dataclass
class Block:
    """One fenced code block of a document."""

    path: Path
    line: int
    lang: str
    code: str
    skip_reason: str | None
    needs: str | None = None

    @property
    def runnable(self) -> bool:
        """Whether the block is Python or shell (the kinds that are run)."""
        return self.lang in PYTHON_LANGS | SHELL_LANGS

    @property
    def where(self) -> str:
        """``file:line`` of the block's opening fence."""
        name = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path.name
        return f"{name}:{self.line}"


def documents() -> list[Path]:
    """README.md and every docs/*.md, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` with their skip markers.

    Raises:
        ValueError: a marker is malformed or a skip has no reason.
    """
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip_reason = needs = None
        marker = _MARKER.search(before)
        if marker:
            kind, arg = marker.group(1), (marker.group(2) or "").strip()
            if kind == "needs" and re.fullmatch(r"[a-z0-9_-]+", arg):
                needs = arg
                skip_reason = f"runs in integrations/{arg}'s suite"
            elif kind != "skip" or not arg:
                raise ValueError(
                    f"{path.name}:{line}: write the marker as <!-- snippet: skip (reason) --> or <!-- snippet: needs (engine) -->"
                )
            else:
                skip_reason = arg
        elif "snippet:" in before:
            raise ValueError(f"{path.name}:{line}: malformed marker {before.strip()!r}")
        found.append(Block(path, line, match.group(1).lower(), match.group(2), skip_reason, needs))
    return found


def shell_code(block: Block) -> str:
    """The commands of a shell block (``$ `` lines of a console block)."""
    if block.lang != "console":
        return block.code
    return "\n".join(line[2:] for line in block.code.splitlines() if line.startswith("$ "))


_DRIVER = r"""
import json, subprocess, sys, traceback
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
results = []
for block in blocks:
    try:
        if block["kind"] == "python":
            exec(compile(block["code"], block["where"], "exec"), namespace)
        else:
            sys.stdout.flush(); sys.stderr.flush()
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block["code"]], capture_output=True, text=True, timeout=60)
            if done.returncode:
                raise RuntimeError(f"exit status {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        results.append(None)
    except BaseException:
        results.append(traceback.format_exc(limit=8))
with open(sys.argv[2], "w") as out:
    json.dump(results, out)
"""


def run_document(
    path: Path, env: dict[str, str] | None = None, engines: frozenset[str] | set[str] = frozenset(), timeout: float = 120
) -> tuple[list[Block], list[str | None]]:
    """Run the runnable, unskipped blocks of ``path`` in order in a fresh dir.

    Python blocks share one interpreter; shell blocks run in bash from the
    same working directory. Blocks marked ``needs (engine)`` run too when
    ``engine`` is in ``engines`` (an integration's suite, where it is
    installed). Returns the blocks run and their errors (None where a
    block passed).
    """
    to_run = [b for b in blocks(path) if b.runnable and (b.skip_reason is None or b.needs in engines)]
    for block in to_run:
        if _INSTALLS.search(block.code):
            raise ValueError(f"{block.where}: a block that installs packages must be marked <!-- snippet: skip (installs ...) -->")
    if not to_run:
        return [], []
    with tempfile.TemporaryDirectory(prefix="snippets-") as tmp:
        work = Path(tmp, "work")
        work.mkdir()
        spec = [
            {
                "kind": "python" if b.lang in PYTHON_LANGS else "shell",
                "code": b.code if b.lang in PYTHON_LANGS else shell_code(b),
                "where": b.where,
            }
            for b in to_run
        ]
        Path(tmp, "blocks.json").write_text(json.dumps(spec))
        Path(tmp, "driver.py").write_text(_DRIVER)
        run_env = {k: v for k, v in (env or os.environ).items() if not k.startswith("LINEAGE_")}
        run_env["LINEAGE_CONFIG_DIR"] = str(Path(tmp, "config"))
        run_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{run_env.get('PATH', '')}"
        run_env["PYTHONPATH"] = str(ROOT)
        run_env["HOME"] = tmp
        done = subprocess.run(
            [sys.executable, str(Path(tmp, "driver.py")), str(Path(tmp, "blocks.json")), str(Path(tmp, "out.json"))],
            cwd=work,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        out = Path(tmp, "out.json")
        if not out.exists():
            raise RuntimeError(f"{path.name}: the snippet process died ({done.returncode}):\n{done.stderr[-3000:]}")
        return to_run, json.loads(out.read_text())


def check_engine_page(page: str, engine: str, at_least: int, env: dict[str, str] | None = None) -> None:
    """Run ``docs/<page>`` with ``engine``'s blocks; what an integration's suite calls
    (``lineage.testing.doc_snippets().check_engine_page(...)``).

    Raises:
        AssertionError: a block failed, or fewer than ``at_least`` ``needs
            (engine)`` blocks ran (markers dropped or mistyped).
    """
    run, errors = run_document(ROOT / "docs" / page, env=env, engines={engine}, timeout=300)
    failures = [f"{b.where}\n{e}" for b, e in zip(run, errors) if e]
    assert not failures, "doc blocks fail:\n\n" + "\n\n".join(failures)
    ran = sum(1 for b in run if b.needs == engine)
    assert ran >= at_least, f"docs/{page}: {ran} 'needs ({engine})' blocks ran, expected at least {at_least}"


def main(argv: list[str]) -> int:
    """Run the given documents (all by default) and print a summary."""
    engines = set()
    while len(argv) >= 2 and argv[0] == "--engine":
        engines.add(argv[1])
        argv = argv[2:]
    paths = [Path(a).resolve() for a in argv] or documents()
    ran = skipped = failed = 0
    for path in paths:
        all_blocks = blocks(path)
        skipped += sum(1 for b in all_blocks if b.runnable and b.skip_reason and b.needs not in engines)
        run, errors = run_document(path, engines=engines, timeout=300 if engines else 120)
        for block, error in zip(run, errors):
            ran += 1
            if error:
                failed += 1
                print(f"FAIL {block.where}\n{error}")
    print(f"{ran} blocks run, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
