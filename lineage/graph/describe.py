"""`record.describe()`: a readable summary printed with rich.

Runs, artifacts and transforms get a tree of what matters about them (a
run: transform, params, inputs, outputs, environment, git; an artifact: its
run, versions, projects); any other record gets a table of its fields.
Lists are cut after `LIST_LIMIT` items with a count of the rest. On a
terminal, long values are shortened to fit; output that is not a terminal
(logs, CI, ``> file``) is never cut: full values, no width limit
(`stdout_console`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from lineage.db.record import Record

__all__ = ["describe", "describe_renderable", "human_size", "stdout_console", "when"]

#: How many items of a list (inputs, versions, ...) are shown.
LIST_LIMIT = 20
#: Longest value shown on a terminal (characters); elsewhere values are shown whole.
VALUE_LIMIT = 200
#: Width of output that is not a terminal: wide enough that rich never cuts or folds a line.
UNLIMITED_WIDTH = 10_000_000
_THIS = "  [bold]← this one[/]"
STATUS_STYLE = {"completed": "green", "errored": "red", "aborted": "yellow", "started": "cyan",
                "scheduled": "cyan", "cached": "blue", "skipped": "dim"}


def stdout_console(soft_wrap: bool = True) -> Console:
    """A rich console on standard output: terminal width on a terminal (or notebook),
    else `UNLIMITED_WIDTH`, so logs, CI output and files never get cut or folded lines."""
    from rich.console import Console

    console = Console(soft_wrap=soft_wrap)
    if not console.is_terminal and not console.is_jupyter:
        console = Console(soft_wrap=soft_wrap, width=UNLIMITED_WIDTH)
    return console


def shortens(console: Console) -> bool:
    """Whether output on `console` is read on a screen (values shortened), not in a log or file."""
    return console.is_terminal or console.is_jupyter


def describe(record: Record, console: Console | None = None) -> None:
    """Print a summary of `record` (a tree for runs, artifacts and transforms).

    Args:
        record: Any saved or unsaved record.
        console: Where to print (default: `stdout_console`). Values are
            shortened only when it is a terminal.
    """
    console = console or stdout_console()
    console.print(describe_renderable(record, full=not shortens(console)))


def describe_renderable(record: Record, full: bool = False) -> RenderableType:
    """The rich renderable `describe` prints (a `Tree` or a `Table`).

    Args:
        record: The record.
        full: Show every value whole (for output that is not a terminal).
    """
    from lineage.artifact import Artifact
    from lineage.models.run import Run
    from lineage.models.transform import Transform

    if record.id is not None:
        if isinstance(record, Run):
            return run_tree(record, full)
        if isinstance(record, Artifact):
            return artifact_tree(record, full)
        if isinstance(record, Transform):
            return transform_tree(record, full)
    return field_table(record, full)


# --- runs -------------------------------------------------------------------------------
def run_tree(run: Any, full: bool = False) -> Any:
    """A tree: transform, timing, parent, params, CLI, inputs, outputs, environment, git."""
    from rich.tree import Tree

    tree = Tree(f"[bold]Run[/] {run.uid}  {status(run.status)}  {duration(run)}".rstrip())
    transform = run.transform
    if transform is not None:
        tree.add(f"transform: [bold]{_e(transform.key)}[/] ({version_text(transform)}, "
                 f"{transform.kind}, uid {transform.uid})")
    if run.entrypoint:
        tree.add(f"entrypoint: {_e(run.entrypoint)}")
    if run.name:
        tree.add(f"name: {_e(run.name)}")
    tree.add(f"started: {when(run.started_at)}   finished: {when(run.finished_at) or '-'}")
    parent = run.initiated_by_run
    if parent is not None:
        tree.add(f"initiated by: {run_line(parent)}")
    if run.external_id:
        attempts = run.attempts.count()
        tries = f"  attempt {run.attempt} of {attempts}" if attempts > 1 or run.attempt > 1 else ""
        tree.add(f"external: {_e(run.external_source or '?')} {_e(run.external_id)}{tries}")
    add_mapping(tree.add("params"), run.params or {}, full)
    if run.details:
        add_mapping(tree.add("details"), run.details, full)
    if run.cli_args:
        tree.add("cli args: " + _e(" ".join(str(a) for a in run.cli_args)))
    features = run.features.get_values()
    if features:
        add_mapping(tree.add("features"), features, full)
    add_list(tree, "inputs", run.input_artifacts.order_by("id"), artifact_line)
    add_list(tree, "outputs", run.output_artifacts.order_by("id"), artifact_line)
    add_list(tree, "re-created earlier (now credited to a later run)",
             run.recreated_artifacts.order_by("id"), artifact_line)
    add_list(tree, "received data from", run.upstream_runs.order_by("started_at", "id"), run_line)
    add_list(tree, "initiated runs", run.initiated_runs.order_by("started_at", "id"), run_line)
    _add_environment(tree, run)
    _add_git(tree, run.git, full)
    projects = [p.name for p in run.projects]
    if projects:
        tree.add("projects: " + _e(", ".join(projects)))
    labels = [label.name for label in run.labels]
    if labels:
        tree.add("labels: " + _e(", ".join(labels)))
    if run.report_id is not None:
        report = run.report
        tree.add(f"report: {artifact_line(report) if report is not None else run.report_id}")
    if run.error:
        node = tree.add("[red]error[/]")
        lines = run.error.rstrip().splitlines()
        for line in lines if full else lines[-8:]:
            node.add(_e(line))
    return tree


def _add_environment(tree: Any, run: Any) -> None:
    env = run.environment
    if env is None:
        return
    host = env.host or {}
    node = tree.add(f"environment: Python {_e(env.python_version or '?')} on "
                    f"{_e(env.platform or '?')}, {len(env.packages or {})} packages "
                    f"(uid {env.uid})")
    if host:
        names = ("hostname", "os", "os_release", "cpu_count", "memory_mib")
        facts = [f"{k} {host[k]}" for k in names if host.get(k) is not None]
        node.add("host: " + _e(", ".join(facts)))


def _add_git(tree: Any, git: dict[str, Any] | None, full: bool = False) -> None:
    if not git:
        return
    dirty = {True: "dirty", False: "clean"}.get(git.get("dirty"), "dirty?")
    commit = git.get("commit") or "no commit"
    node = tree.add(_e(f"git: {commit if full else commit[:12]} on "
                       f"{git.get('branch') or 'detached HEAD'} ({dirty})"))
    for name in ("path", "remote", "url"):
        if git.get(name):
            node.add(f"{name}: {_e(str(git[name]))}")


# --- artifacts --------------------------------------------------------------------------
def artifact_tree(artifact: Any, full: bool = False) -> Any:
    """A tree: content facts, creating run, earlier creators, users, versions, projects, labels, features."""
    from rich.tree import Tree

    latest = "latest" if artifact.is_latest else "[yellow]not latest[/]"
    hidden = "  [red]storage ongoing[/]" if artifact.storage_ongoing else ""
    tree = Tree(f"[bold]Artifact[/] {_e(artifact.key or '(no key)')}  v{artifact.version} "
                f"({latest})  uid {artifact.uid}{hidden}")
    if artifact.description:
        tree.add(f"description: {_e(artifact.description)}")
    facts = [artifact.kind, human_size(artifact.size)]
    if artifact.suffix:
        facts.insert(1, artifact.suffix)
    if artifact.n_files:
        facts.append(f"{artifact.n_files} files")
    if artifact.otype:
        facts.append(artifact.otype)
    tree.add(" · ".join(_e(str(f)) for f in facts if f))
    if artifact.hash:
        tree.add(f"{artifact.hash_type}: {artifact.hash}")
    storage = artifact.storage
    if storage is not None or artifact.object_key:
        root = getattr(storage, "root", None) if storage is not None else None
        tree.add(f"stored: {_e(str(root or '?'))} / {_e(artifact.object_key or '?')}")
    tree.add(f"created: {when(artifact.created_at)}")
    run = artifact.run
    if run is not None:
        node = tree.add(f"run: {run_line(run)}")
        parent = run.initiated_by_run
        if parent is not None:
            node.add(f"initiated by: {run_line(parent)}")
        add_list(node, "inputs", run.input_artifacts.order_by("id"), artifact_line)
    add_list(tree, "previous runs (created the same content earlier)",
             artifact.previous_runs.order_by("started_at", "id"), run_line)
    add_list(tree, "used as input by", artifact.input_of_runs.order_by("started_at", "id"),
             run_line)
    if artifact.key is not None:
        add_list(tree, "versions", artifact.versions,
                 lambda v: artifact_line(v) + (_THIS if v.id == artifact.id else ""),
                 always=True)
    projects = [p.name for p in artifact.projects]
    if projects:
        tree.add("projects: " + _e(", ".join(projects)))
    labels = [label.name for label in artifact.labels]
    if labels:
        tree.add("labels: " + _e(", ".join(labels)))
    features = artifact.features.get_values()
    if features:
        add_mapping(tree.add("features"), features, full)
    return tree


# --- transforms -------------------------------------------------------------------------
def version_text(transform: Any) -> str:
    """``v2``, or ``v2 T1`` with the transform's version tag (markup escaped)."""
    tag = getattr(transform, "version_tag", None)
    return f"v{transform.version}" + (f" {_e(tag)}" if tag else "")


def transform_tree(transform: Any, full: bool = False) -> Any:
    """A tree: identity, source size, recent runs, versions, projects."""
    from rich.tree import Tree

    latest = "latest" if transform.is_latest else "[yellow]not latest[/]"
    tree = Tree(f"[bold]Transform[/] {_e(transform.key)}  {version_text(transform)} ({latest})  "
                f"{transform.kind}  uid {transform.uid}")
    if transform.description:
        tree.add(f"description: {_e(transform.description)}")
    if transform.reference:
        tree.add(f"reference: {_e(transform.reference)}")
    source = transform.source_code or ""
    digest = transform.hash or "?"
    tree.add(f"source: {len(source.splitlines())} lines, sha256 "
             f"{digest if full else digest[:16] + '…'}")
    tree.add(f"created: {when(transform.created_at)}")
    runs = transform.runs
    total = runs.count()
    node = tree.add(f"runs: {total}")
    for run in runs.order_by("-started_at", "-id")[:LIST_LIMIT]:
        node.add(run_line(run, with_transform=False))
    if total > LIST_LIMIT:
        node.add(f"[dim]… {total - LIST_LIMIT} older[/]")
    add_list(tree, "versions", transform.versions,
             lambda t: f"{version_text(t)} uid {t.uid} {when(t.created_at)}"
             + (_THIS if t.id == transform.id else ""), always=True)
    projects = [p.name for p in transform.projects]
    if projects:
        tree.add("projects: " + _e(", ".join(projects)))
    labels = [label.name for label in transform.labels]
    if labels:
        tree.add("labels: " + _e(", ".join(labels)))
    return tree


# --- anything else ----------------------------------------------------------------------
def field_table(record: Any, full: bool = False) -> Any:
    """A two-column table of the record's fields."""
    from rich.table import Table

    name = type(record).__name__
    title = f"{name} {getattr(record, 'uid', '')}".strip()
    if record.id is None:
        title += " (not saved)"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field in record.columns():
        value = getattr(record, field, None)
        if value is None or value == "":
            continue
        shown = when(value) if isinstance(value, datetime) else _short(value, full)
        table.add_row(field, _e(shown))
    return table


# --- shared pieces --------------------------------------------------------------------------
def run_line(run: Any, with_transform: bool = True) -> str:
    """One line about a run: uid, transform key, entrypoint, status, start."""
    parts = [f"run {run.uid}"]
    if with_transform:
        transform = run.transform
        parts.append(f"[bold]{_e(transform.key)}[/]" if transform is not None else "?")
    if run.entrypoint:
        parts.append(_e(run.entrypoint))
    parts.append(status(run.status))
    parts.append(when(run.started_at))
    return " · ".join(parts)


def artifact_line(artifact: Any) -> str:
    """One line about an artifact: key, version, size, uid."""
    return (f"{_e(artifact.key or '(no key)')} v{artifact.version} · {human_size(artifact.size)} · "
            f"uid {artifact.uid}")


def add_list(node: Any, label: str, items: Any, line: Any, always: bool = False) -> None:
    """Add ``label (count)`` with one child per item, at most `LIST_LIMIT`."""
    from lineage.db.query import QuerySet

    lazy = isinstance(items, QuerySet)
    shown = list(items[:LIST_LIMIT + 1]) if lazy else list(items)
    if not shown and not always:
        return
    total = items.count() if lazy and len(shown) > LIST_LIMIT else len(shown)
    child = node.add(f"{label} ({total})")
    for item in shown[:LIST_LIMIT]:
        child.add(line(item))
    if total > LIST_LIMIT:
        child.add(f"[dim]… {total - LIST_LIMIT} more[/]")


def add_mapping(node: Any, values: dict[str, Any], full: bool = False) -> None:
    """Add nested ``name = value`` children (values shortened unless `full`)."""
    if not values:
        node.add("[dim](none)[/]")
    for name, value in values.items():
        if isinstance(value, dict) and value and not any(str(k).startswith("__") for k in value):
            add_mapping(node.add(_e(str(name))), value, full)
        else:
            node.add(f"{_e(str(name))} = {_e(_short(value, full))}")


def status(value: str | None) -> str:
    """A run status with its colour."""
    style = STATUS_STYLE.get(value or "", "")
    return f"[{style}]{value}[/]" if style else str(value)


def duration(run: Any) -> str:
    """How long a finished run took, or ``""``."""
    if run.finished_at is None or run.started_at is None:
        return ""
    return seconds_text((run.finished_at - run.started_at).total_seconds())


def seconds_text(seconds: float) -> str:
    """``0.25 -> "250 ms"``, ``75 -> "75.0 s"``, ``600 -> "10.0 min"``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def when(value: datetime | None) -> str:
    """A timestamp in local time, to the second (``""`` for None)."""
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def human_size(size: int | None) -> str:
    """``1536 -> "1.5 KiB"``."""
    if size is None:
        return "? B"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _short(value: Any, full: bool = False) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if full or len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def _e(text: str) -> str:
    from rich.markup import escape

    return escape(text)
