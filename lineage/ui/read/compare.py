"""Two or more runs side by side: params, features, run facts, git, inputs, outputs, packages.

Each section is a list of rows ``{"name", "values": [one per run], "differs"}``.
Inputs and outputs are matched by artifact key (by uid when they have none),
so "the same input in another version" is one row whose values differ.
Packages list only those whose versions differ, with a count of the rest.
"""

from __future__ import annotations

from typing import Any

from lineage.errors import ValidationError
from lineage.ui.read.values import display, flatten, iso, seconds_between

#: Most runs one comparison takes.
MAX_RUNS = 20
_MISSING = None


def compare(uids: list[str]) -> dict[str, Any]:
    """The comparison of the runs named by `uids` (in that order).

    Raises:
        ValidationError: Fewer than two or more than `MAX_RUNS` runs.
        DoesNotExist: A uid names no run.
    """
    from lineage.ui.read.records import get_record, run_summary

    if not 2 <= len(uids) <= MAX_RUNS:
        raise ValidationError(f"compare takes 2 to {MAX_RUNS} runs, got {len(uids)}; pass "
                              "runs=<uid>,<uid>.")
    runs = [get_record("Run", uid) for uid in uids]
    facts = [_facts(run) for run in runs]
    sections = [
        _section("Run", [f["run"] for f in facts]),
        _section("Params", [f["params"] for f in facts]),
        _section("Features", [f["features"] for f in facts]),
        _section("Git", [f["git"] for f in facts]),
        _section("Inputs", [f["inputs"] for f in facts]),
        _section("Outputs", [f["outputs"] for f in facts]),
        _section("Environment", [f["environment"] for f in facts]),
    ]
    packages = _section("Packages", [f["packages"] for f in facts])
    same = [row for row in packages["rows"] if not row["differs"]]
    packages["rows"] = [row for row in packages["rows"] if row["differs"]]
    packages["same"] = len(same)
    sections.append(packages)
    return {"runs": [run_summary(r) for r in runs], "sections": sections}


def _facts(run: Any) -> dict[str, dict[str, Any]]:
    transform = run.transform
    env = run.environment
    git = run.git or {}
    return {
        "run": {"transform": f"{transform.key} v{transform.version}",
                "entrypoint": run.entrypoint, "status": run.status,
                "started": iso(run.started_at),
                "duration (s)": seconds_between(run.started_at, run.finished_at),
                "host": run.host, "cli args": " ".join(map(str, run.cli_args or [])) or None},
        "params": flatten(run.params or {}),
        "features": run.features.get_values(),
        "git": {name: git.get(name) for name in ("commit", "branch", "dirty", "remote", "path")
                if git},
        "inputs": _artifacts(run.input_artifacts),
        "outputs": _artifacts(run.output_artifacts),
        "environment": {} if env is None else {
            "python": env.python_version, "platform": env.platform, "environment uid": env.uid},
        "packages": {} if env is None else dict(env.packages or {}),
    }


def _artifacts(query: Any) -> dict[str, str]:
    out = {}
    for artifact in query.order_by("key", "version")[:500]:
        out[artifact.key or artifact.uid] = f"v{artifact.version} · {artifact.uid}"
    return out


def _section(name: str, per_run: list[dict[str, Any]]) -> dict[str, Any]:
    names: list[str] = []
    seen: set[str] = set()
    for values in per_run:
        for key in values:
            if key not in seen:
                seen.add(key)
                names.append(key)
    if name in ("Params", "Features", "Inputs", "Outputs", "Packages"):
        names.sort()
    rows = []
    for key in names:
        values = [values.get(key, _MISSING) for values in per_run]
        shown = [None if v is None else display(v) for v in values]
        rows.append({"name": key, "values": values, "shown": shown,
                     "differs": len({repr(v) for v in values}) > 1})
    return {"name": name, "rows": rows}
