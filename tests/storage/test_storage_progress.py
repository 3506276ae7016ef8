"""The progress bar shows only for large transfers to a terminal."""

from __future__ import annotations

import io

from lineage.storage.progress import PROGRESS_THRESHOLD, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with progress_bar("file.bin", PROGRESS_THRESHOLD * 2, stream=out) as advance:
        assert advance is None
    assert out.getvalue() == ""


def test_silent_for_small_transfers() -> None:
    out = FakeTerminal()
    with progress_bar("file.bin", PROGRESS_THRESHOLD - 1, stream=out) as advance:
        assert advance is None
    assert out.getvalue() == ""


def test_bar_for_large_transfers_to_a_terminal() -> None:
    out = FakeTerminal()
    total = PROGRESS_THRESHOLD * 2
    with progress_bar("file.bin", total, stream=out) as advance:
        assert advance is not None
        for _ in range(4):
            advance(total // 4)
    assert "file.bin" in out.getvalue()
