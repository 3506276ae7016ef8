"""Git state of the file a run executes; local only, never a network call.

Commit, branch and remote are read straight from ``.git`` (``HEAD``, loose
refs, ``packed-refs``, ``config``), which takes well under a millisecond;
worktrees and submodules (a ``.git`` *file*) are followed. Only the dirty
flag needs git itself: one ``git status --porcelain --untracked-files=no``
plus one ``git ls-files`` for the file itself. Repositories whose refs this
module cannot read directly (reftable) fall back to gitpython.

Dirty rule: the working tree is dirty when a tracked file is modified or
staged, or when the file itself is not tracked (its code is then not in the
commit). Other untracked files do not count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from lineage.capture.escape import escape_text
from lineage.capture.redact import redact_url

# No index lock (the user may run git at the same time), no prompt, stable output.
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
# Inherited repository overrides (set inside git hooks) would point git elsewhere.
_REPO_VARS = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"})


def capture_git(path: Path, sync_git_repo: str | None = None) -> dict[str, Any] | None:
    """Describe the git state of ``path``.

    Args:
        path: The script, notebook or module file (or a directory).
        sync_git_repo: Base URL of the repository on a forge, e.g.
            ``"https://github.com/org/repo"``; when set, ``url`` links to the
            file at the commit.

    Returns:
        ``{"commit", "branch", "dirty", "remote", "path", "url"}``:
        ``commit`` is None in a repository without commits, ``branch`` None
        on a detached HEAD, ``dirty`` None if git could not tell (for
        example a repository git refuses as unsafe), ``remote`` the redacted
        URL of ``origin`` (else of the first remote; None without remotes),
        ``path`` the posix path relative to the repository root, ``url``
        None unless ``sync_git_repo`` is set and there is a commit.
        None outside a git repository or when git is not installed.
    """
    path = Path(os.path.abspath(path))
    found = _find_repo(path)
    if found is None or shutil.which("git") is None:
        return None
    root, git_dir, common_dir = found
    rel = path.relative_to(root).as_posix()
    try:
        commit, branch = _read_head(git_dir, common_dir)
    except _Unreadable:
        commit, branch = _head_via_gitpython(root)
    remote = _read_remote(common_dir)
    url = None
    if sync_git_repo and commit:
        base = redact_url(sync_git_repo).rstrip("/").removesuffix(".git")
        url = f"{base}/blob/{commit}/{rel}"
    return {  # file and branch names may hold undecodable bytes: escaped
        "commit": commit,
        "branch": _text(branch),
        "dirty": _is_dirty(root, rel, path.is_file()),
        "remote": _text(redact_url(remote) if remote else None),
        "path": _text(rel),
        "url": _text(url),
    }


def _text(value: str | None) -> str | None:
    return None if value is None else escape_text(value)


class _Unreadable(Exception):
    """The refs are not in a format read here."""


def _find_repo(path: Path) -> tuple[Path, Path, Path] | None:
    """Return (work tree root, git dir, common git dir) of the repository containing path."""
    for directory in (path, *path.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                continue
            git_dir = Path(os.path.normpath(directory / text[len("gitdir:") :].strip()))
        else:
            continue
        common_dir = git_dir
        commondir_file = git_dir / "commondir"
        if commondir_file.is_file():
            target = commondir_file.read_text(encoding="utf-8").strip()
            common_dir = Path(os.path.normpath(git_dir / target))
        return directory, git_dir, common_dir
    return None


def _read_head(git_dir: Path, common_dir: Path) -> tuple[str | None, str | None]:
    if (common_dir / "reftable").is_dir():
        raise _Unreadable
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError as e:
        raise _Unreadable from e
    if not head.startswith("ref:"):
        return head, None  # detached HEAD holds the commit itself
    ref = head[len("ref:") :].strip()
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return _resolve_ref(ref, git_dir, common_dir), branch


def _resolve_ref(ref: str, git_dir: Path, common_dir: Path, depth: int = 0) -> str | None:
    if depth > 5:
        raise _Unreadable
    for base in (git_dir, common_dir):
        try:
            value = (base / ref).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if value.startswith("ref:"):
            return _resolve_ref(value[len("ref:") :].strip(), git_dir, common_dir, depth + 1)
        return value or None
    try:
        packed = (common_dir / "packed-refs").read_text(encoding="utf-8")
    except OSError:
        return None  # no commit yet on this branch
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and not line.startswith(("#", "^")):
            return sha
    return None


def _read_remote(common_dir: Path) -> str | None:
    """Return the url of remote "origin", else of the first remote, from .git/config."""
    try:
        lines = (common_dir / "config").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    urls: dict[str, str] = {}
    remote = None
    for raw in lines:
        line = raw.strip()
        if line.startswith("["):
            header = line[1 : line.find("]")].strip() if "]" in line else ""
            kind, _, sub = header.partition(" ")
            remote = sub.strip().strip('"') if kind.lower() == "remote" and sub else None
            continue
        if remote is None or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key.strip().lower() == "url" and remote not in urls:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            urls[remote] = value
    return urls.get("origin") or next(iter(urls.values()), None)


def _head_via_gitpython(root: Path) -> tuple[str | None, str | None]:
    import git  # slow to import (~80 ms); only for repositories we cannot read directly

    try:
        repo = git.Repo(root)
    except git.GitError:
        return None, None
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # no commits yet
        commit = None
    try:
        branch = None if repo.head.is_detached else repo.active_branch.name
    except TypeError:
        branch = None
    return commit, branch


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_VARS}
    env.update(_GIT_ENV)
    return env


def _run_git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env=_git_env(),
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _is_dirty(root: Path, rel: str, is_file: bool) -> bool | None:
    status = _run_git(root, "status", "--porcelain", "--untracked-files=no")
    if status is None:
        return None
    if status.strip():
        return True
    if not is_file:
        return False
    tracked = _run_git(root, "ls-files", "-z", "--", f":(literal){rel}")
    if tracked is None:
        return None
    return not tracked
