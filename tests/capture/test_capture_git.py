"""Tests for lineage.capture.git, against real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lineage.capture.git import capture_git

GitRunner = Callable[..., str]


def test_clean_repository(repo: Path, git: GitRunner) -> None:
    info = capture_git(repo / "pipelines" / "train.py")
    assert info == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "branch": "main",
        "dirty": False,
        "remote": None,
        "path": "pipelines/train.py",
        "url": None,
    }


def test_modified_tracked_file_is_dirty(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    assert capture_git(repo / "pipelines" / "train.py")["dirty"] is True


def test_staged_change_is_dirty(repo: Path, git: GitRunner) -> None:
    (repo / "new.py").write_text("x = 1\n")
    git(repo, "add", "new.py")
    assert capture_git(repo / "pipelines" / "train.py")["dirty"] is True


def test_other_untracked_files_are_not_dirty(repo: Path) -> None:
    (repo / "scratch.txt").write_text("notes\n")
    assert capture_git(repo / "pipelines" / "train.py")["dirty"] is False


def test_untracked_script_itself_is_dirty(repo: Path) -> None:
    script = repo / "pipelines" / "new step.py"
    script.write_text("print(1)\n")
    info = capture_git(script)
    assert info["dirty"] is True
    assert info["path"] == "pipelines/new step.py"


def test_detached_head_has_no_branch(repo: Path, git: GitRunner) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("second\n")
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "checkout", "-q", "--detach", first)
    info = capture_git(repo / "README.md")
    assert info["branch"] is None
    assert info["commit"] == first
    assert info["dirty"] is False


def test_branch_with_slash_and_packed_refs(repo: Path, git: GitRunner) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "feature" / "x").exists()
    info = capture_git(repo / "README.md")
    assert info["branch"] == "feature/x"
    assert info["commit"] == git(repo, "rev-parse", "HEAD")


def test_remote_credentials_are_redacted(repo: Path, git: GitRunner) -> None:
    git(repo, "remote", "add", "upstream", "https://example.com/up.git")
    git(repo, "remote", "add", "origin", "https://user:s3cret@github.com/org/repo.git")
    info = capture_git(repo / "README.md")
    assert info["remote"] == "https://user:***@github.com/org/repo.git"
    git(repo, "remote", "set-url", "origin", "https://ghp_abcdef@github.com/org/repo.git")
    info = capture_git(repo / "README.md")
    assert info["remote"] == "https://***@github.com/org/repo.git"
    assert "s3cret" not in json.dumps(info) and "ghp_abcdef" not in json.dumps(info)


def test_first_remote_when_no_origin(repo: Path, git: GitRunner) -> None:
    git(repo, "remote", "add", "upstream", "git@github.com:org/repo.git")
    assert capture_git(repo / "README.md")["remote"] == "git@github.com:org/repo.git"


def test_sync_git_repo_gives_blob_url(repo: Path, git: GitRunner) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    expected = f"https://github.com/org/repo/blob/{commit}/pipelines/train.py"
    for base in ("https://github.com/org/repo", "https://github.com/org/repo.git/"):
        assert capture_git(repo / "pipelines" / "train.py", sync_git_repo=base)["url"] == expected


def test_repository_without_commits(tmp_path: Path, git: GitRunner) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    script = tmp_path / "a.py"
    script.write_text("")
    info = capture_git(script, sync_git_repo="https://github.com/org/repo")
    assert info["commit"] is None
    assert info["branch"] == "main"
    assert info["url"] is None
    assert info["dirty"] is True  # the script is not committed


def test_worktree(repo: Path, git: GitRunner, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(wt))
    assert (wt / ".git").is_file()
    (wt / "README.md").write_text("changed in worktree\n")
    info = capture_git(wt / "pipelines" / "train.py")
    assert info["branch"] == "feature"
    assert info["commit"] == git(repo, "rev-parse", "HEAD")
    assert info["path"] == "pipelines/train.py"
    assert info["dirty"] is True
    assert capture_git(repo / "pipelines" / "train.py")["dirty"] is False


def test_gitpython_fallback_for_unreadable_refs(repo: Path, git: GitRunner) -> None:
    (repo / ".git" / "reftable").mkdir()  # refs this module does not parse itself
    info = capture_git(repo / "README.md")
    assert info["commit"] == git(repo, "rev-parse", "HEAD")
    assert info["branch"] == "main"


def test_none_without_git_installed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    assert capture_git(repo / "README.md") is None


def test_outside_a_repository(tmp_path: Path) -> None:
    assert not any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents))
    script = tmp_path / "a.py"
    script.write_text("")
    assert capture_git(script) is None


def test_does_not_import_gitpython_or_touch_the_index_lock(repo: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\nfrom lineage.capture.git import capture_git\n"
        f"info = capture_git(Path({str(repo / 'README.md')!r}))\n"
        "assert info['commit'] and info['dirty'] is False, info\n"
        "print('git' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert not (repo / ".git" / "index.lock").exists()
