"""Hashing a large file shows the same progress bar as a copy (terminal and Jupyter); small files never do."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

import lineage as ln
from lineage.storage.hashing import hash_file
from lineage.storage.progress import PROGRESS_THRESHOLD


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _big_file(path: Path, size: int = PROGRESS_THRESHOLD + (1 << 20)) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: fast to make, read as zeros
    return path


def test_hash_file_reports_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 3_000_001)
    seen: list[int] = []
    digest = hash_file(path, seen.append)
    assert sum(seen) == digest.size == 3_000_001
    assert digest == hash_file(path)


@pytest.mark.parametrize("storage", ["local", "beside", "remote-like"])
def test_large_file_shows_a_hashing_bar_at_a_terminal(sqlite_instance, tmp_path, monkeypatch, storage) -> None:
    """Staged (local storage) and plain hashing both draw the bar, named after the file."""
    path = _big_file(tmp_path / "big.bin")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    if storage == "beside":
        ln.Artifact(path, key="first.bin").save()  # the same content stored: hashed and compared beside it
        terminal.seek(0)
        terminal.truncate()
    if storage == "remote-like":
        # an existing object of the same size: hashed beside it (no staging); two make it a plain hash
        for i in range(2):
            ln.Artifact(key=f"same{i}.bin", hash=str(i) * 64, size=path.stat().st_size, kind="file",
                        object_key=f"o{i}", storage_ongoing=False, is_latest=True).save()
    ln.Artifact(path, key="big.bin")
    assert "hashing big.bin" in terminal.getvalue()


def test_small_file_shows_nothing(sqlite_instance, tmp_path, monkeypatch) -> None:
    path = tmp_path / "small.bin"
    path.write_bytes(b"y" * (2 << 20))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    ln.Artifact(path, key="small.bin").save()
    assert terminal.getvalue() == ""


def test_large_file_shows_a_bar_in_a_jupyter_kernel(tmp_path: Path) -> None:
    """A real kernel (nbclient): the cell's output holds an HTML <progress> bar, updated in place."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    _big_file(tmp_path / "big.bin")
    code = (
        "import lineage as ln\n"
        f"ln.init(storage={str(tmp_path / 'storage')!r})\n"
        "a = ln.Artifact('big.bin', key='big.bin')\n"
        "print(a.size)\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    html = [o["data"]["text/html"] for o in outputs if o.get("output_type") == "display_data"]
    assert html and "<progress" in html[0] and "hashing big.bin" in html[0]
    assert any(o.get("text", "").strip() == str(PROGRESS_THRESHOLD + (1 << 20)) for o in outputs)
