"""Every Python and shell block of README.md and docs/*.md runs as written.

Blocks run in order, one interpreter per document, in a fresh directory with
a fresh configuration (so a fresh instance). A block that cannot run here
carries ``<!-- snippet: skip (reason) -->``; see tests/docs/doc_snippets.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_snippets import ROOT, Block, blocks, documents, run_document


def test_every_unmarked_block_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs every document; fails on any unmarked block that fails."""
    ran = skipped = elsewhere = 0
    failures = []
    for path in documents():
        found = blocks(path)
        skipped += sum(1 for b in found if b.runnable and b.skip_reason and not b.needs)
        elsewhere += sum(1 for b in found if b.runnable and b.needs)
        run, errors = run_document(path)
        ran += len(run)
        failures += [f"{b.where}\n{e}" for b, e in zip(run, errors) if e]
    with capsys.disabled():
        print(
            f"\ndocs snippets: {ran} blocks run, {skipped} skipped (marked), "
            f"{elsewhere} run in an integration's suite (needs), {len(failures)} failed"
        )
    assert ran > 0
    assert not failures, "doc blocks fail (fix them, or mark them <!-- snippet: skip (reason) -->):\n\n" + "\n\n".join(failures)


def test_a_failing_block_is_reported_and_a_marked_one_is_skipped(tmp_path: Path) -> None:
    """The runner reports a failing block by file and line and skips marked ones."""
    doc = tmp_path / "selftest.md"
    doc.write_text(
        "```python\nx = 1\n```\n\n<!-- snippet: skip (shows a failure on purpose) -->\n```python\nraise SystemExit(3)\n```\n\n"
        "```bash\ntest -f nothing-here\n```\n\n```python\nassert x == 1\nraise ValueError('boom')\n```\n",
        encoding="utf-8",
    )
    found = blocks(doc)
    assert [b.skip_reason for b in found] == [None, "shows a failure on purpose", None, None]
    run, errors = run_document(doc)
    assert [b.line for b in run] == [1, 10, 14]
    assert errors[0] is None
    assert "exit status 1" in errors[1]
    assert "ValueError: boom" in errors[2] and f"{doc.name}:14" in errors[2]


def test_a_skip_without_a_reason_is_refused(tmp_path: Path) -> None:
    """``<!-- snippet: skip -->`` without a reason is an error, not a silent skip."""
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- snippet: skip -->\n```python\npass\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="reason"):
        blocks(doc)


def test_an_install_block_must_be_marked(tmp_path: Path) -> None:
    """A block that installs packages never runs in the suite."""
    doc = tmp_path / "install.md"
    doc.write_text("```bash\npip install something\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="installs packages"):
        run_document(doc)


def test_console_blocks_run_only_their_prompt_lines() -> None:
    """In a ``console`` block the ``$`` lines are commands, the rest output."""
    from doc_snippets import shell_code

    block = Block(ROOT / "README.md", 1, "console", "$ echo hi\nhi\n$ true\n", None)
    assert shell_code(block) == "echo hi\ntrue"


def test_a_needs_block_runs_only_for_its_engine(tmp_path: Path) -> None:
    """``needs (engine)`` is skipped in the core suite and runs where the engine is given."""
    doc = tmp_path / "engine.md"
    doc.write_text("```python\nx = 1\n```\n\n<!-- snippet: needs (prefect) -->\n```python\nraise ValueError('ran')\n```\n", encoding="utf-8")
    found = blocks(doc)
    assert found[1].needs == "prefect" and found[1].skip_reason == "runs in integrations/prefect's suite"
    assert [b.line for b in run_document(doc)[0]] == [1]
    assert [b.line for b in run_document(doc, engines={"dagster"})[0]] == [1]
    run, errors = run_document(doc, engines={"prefect"})
    assert [b.line for b in run] == [1, 6] and "ValueError: ran" in errors[1]
