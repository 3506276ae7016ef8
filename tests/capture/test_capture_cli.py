"""Tests for lineage.capture.cli."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lineage.capture.cli import capture_cli_args


def test_defaults_to_sys_argv_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["./train.py", "--epochs", "3", "--password", "pw"])
    captured = capture_cli_args()
    assert captured == ["./train.py", "--epochs", "3", "--password", "***"]
    captured.append("x")
    assert sys.argv == ["./train.py", "--epochs", "3", "--password", "pw"]


def test_explicit_argv_keeps_argv0_as_given() -> None:
    assert capture_cli_args(["rel/script.py", "--api-key=k", "x=1"]) == [
        "rel/script.py",
        "--api-key=***",
        "x=1",
    ]


def test_real_process_argv_is_redacted(tmp_path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        "from lineage.capture.cli import capture_cli_args\nprint(capture_cli_args())\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), "--token", "abc", "--n=2", "https://u:pw@h/x"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == repr([str(script), "--token", "***", "--n=2", "https://u:***@h/x"])


def test_arguments_that_are_not_valid_text_are_escaped_not_refused(tmp_path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        "from lineage.capture.cli import capture_cli_args\nprint(ascii(capture_cli_args()))\n"
    )
    out = subprocess.run(  # real undecodable bytes in argv, as a shell passes them
        [sys.executable, str(script), b"data\xff.csv", b"--password=\xfe", "a\x01b"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == ascii([str(script), "data\\xff.csv", "--password=***", "a\x01b"])
