"""Turn the harness's samples into a table of medians and ratios, and JSON.

Every figure is the median of the samples gathered for it; ratios are
``peer median / lineage median``. A cell that could not be measured carries
the exact error text (or the reason it does not apply) instead of a number.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("lineage", "lamindb", "mlflow")
BASE = "lineage"


@dataclass
class Metric:
    id: str
    group: str
    label: str
    unit: str  # "s" (shown as us/ms/s), "MiB", "count", "bytes"
    ratio: bool = True


def metrics(sizes: dict) -> list[Metric]:
    """The rows of the table, in order; labels carry this run's sizes."""
    big, n_small = sizes["big_label"], sizes["n_small"]
    n_steps, n_chain = sizes["n_steps"], sizes["n_chain"]
    g1, g2, g3 = "1. whole script (headline)", "2. cold import", "3. per step"
    g4, g5, g6 = "4. saves", "5. lineage", "6. memory"
    no_ratio = {"ratio": False}
    return [
        Metric("script.tracked_s", g1, "tracked script: import, run+params, finish", "s"),
        Metric("script.untracked_s", g1, "  same script untracked", "s", **no_ratio),
        Metric("script.overhead_s", g1, "  tracking overhead (paired difference)", "s"),
        Metric("import.process_s", g2,
               "import <tool>, fresh process (not like for like: see notes)", "s"),
        Metric("import.inproc_s", g2, "  the import statement alone", "s"),
        Metric("import.python_s", g2, "  baseline: python -c pass, same venv", "s", **no_ratio),
        Metric("steps.per_step_s", g3,
               f"overhead per step call, each tool's default (up to {n_steps} calls)", "s"),
        Metric("steps.normal_per_step_s", g3, "  equal durability: SQLite WAL, synchronous=NORMAL",
               "s"),
        Metric("steps.full_per_step_s", g3,
               "  equal durability: SQLite WAL, synchronous=FULL (lineage 'full')", "s"),
        Metric("steps.per_call_median_s", g3, "  median step call (default)", "s"),
        Metric("steps.calls", g3, "  step calls measured", "count", **no_ratio),
        Metric("steps.flow_overhead_s", g3, "  flow start + finish", "s"),
        Metric("save.big_s", g4, f"save a {big} file (only lineage fsyncs; see notes)", "s"),
        Metric("save.same_big_s", g4, "  same work: lineage without fsync", "s"),
        Metric("save.big_cp_s", g4, "  baseline: cp of the same file", "s", **no_ratio),
        Metric("save.big_again_s", g4, "  save identical content again", "s"),
        Metric("save.small_bulk_s", g4, f"save {n_small} small files, in bulk", "s"),
        Metric("save.same_small_bulk_s", g4, "  same work: lineage without fsync", "s"),
        Metric("save.small_each_s", g4, f"  save {n_small} other small files one by one", "s"),
        Metric("save.small_cp_s", g4, "  baseline: cp -r of the same files", "s", **no_ratio),
        Metric("save.small_again_s", g4, "  save identical small files again (bulk)", "s"),
        Metric("lineage.walk_s", g5, f"upstream walk, last of {n_chain}-step chain", "s"),
        Metric("lineage.walk_found", g5, f"  upstream artifacts found (of {n_chain - 1})",
               "count", **no_ratio),
        Metric("lineage.graph_s", g5, "  lineage graph call (upstream)", "s"),
        Metric("lineage.view_s", g5, "  draw it: view_lineage to SVG", "s"),
        Metric("chain.per_link_s", g5, "  building the chain, per link (info)", "s"),
        Metric("memory.tracked_mib", g6, "peak RSS of the tracked script (GNU time)", "MiB"),
        Metric("memory.untracked_mib", g6, "  same script untracked", "MiB", **no_ratio),
    ]


@dataclass
class Cell:
    """What was measured for one metric and one tool."""

    samples: list = field(default_factory=list)
    error: str | None = None  # it failed: the exact error text
    na: str | None = None  # it does not apply to this tool: why

    def median(self):
        nums = [s for s in self.samples if isinstance(s, (int, float))]
        return statistics.median(nums) if nums and not self.error else None

    def as_dict(self) -> dict:
        out: dict = {}
        med = self.median()
        if med is not None:
            out["median"] = med
            out["n"] = len(self.samples)
            out["min"] = min(self.samples)
            out["max"] = max(self.samples)
            out["samples"] = self.samples
        if self.error:
            out["error"] = self.error
            if self.samples:
                out["samples_before_error"] = self.samples
        if self.na:
            out["na"] = self.na
        if not out:
            out["error"] = "not measured"
        return out


def fmt_value(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        a = abs(value)
        if a >= 1:
            return f"{value:.2f} s"
        if a >= 1e-3:
            return f"{value * 1e3:.1f} ms"
        return f"{value * 1e6:.0f} us"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "count":
        return f"{value:g}"
    return f"{value:g} {unit}"


def ratio(peer, base) -> float | None:
    if peer is None or base is None or base <= 0 or peer < 0:
        return None
    return peer / base


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def machine() -> dict:
    """Describe the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    commit = None
    try:
        repo = Path(__file__).resolve().parent.parent
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "repo_commit": commit,
    }


def build(results: dict) -> dict:
    """The JSON document: machine, tools, settings, and per-metric cells with
    medians and peer/lineage ratios."""
    rows = []
    cells: dict = results["cells"]
    for m in metrics(results["sizes"]):
        per_tool = {t: cells.get(m.id, {}).get(t, Cell()) for t in results["tools_run"]}
        values = {t: c.as_dict() for t, c in per_tool.items()}
        ratios = {}
        if m.ratio and BASE in per_tool:
            base = per_tool[BASE].median()
            for t, c in per_tool.items():
                if t != BASE:
                    ratios[f"{t}/{BASE}"] = ratio(c.median(), base)
        rows.append(
            {"id": m.id, "group": m.group, "label": m.label, "unit": m.unit,
             "values": values, "ratios": ratios}
        )
    return {
        "date": results["date"],
        "mode": results["mode"],
        "settings": results["settings"],
        "sizes": results["sizes"],
        "machine": results["machine"],
        "tools": results["tools"],
        "timing": results["timing"],
        "offline_checks": results["offline_checks"],
        "notes": results["notes"],
        "metrics": rows,
    }


def table(doc: dict) -> str:
    """The human-readable report of a JSON document made by build()."""
    tools = [t for t in TOOLS if t in doc["tools"]]
    peers = [t for t in tools if t != BASE]
    show_ratios = BASE in tools
    footnotes: dict[str, int] = {}

    def note(text: str) -> str:
        if text not in footnotes:
            footnotes[text] = len(footnotes) + 1
        return f"[{footnotes[text]}]"

    # tool availability first, so a tool that is entirely missing gets one note
    header_notes = {}
    for t in tools:
        info = doc["tools"][t]
        if not info.get("available"):
            header_notes[t] = note(f"{t}: not available: {info.get('error')}")

    head = ["", *tools]
    if show_ratios:
        head += [f"{p}/{BASE}" for p in peers]
    lines_out = [head]
    group = None
    for row in doc["metrics"]:
        if row["group"] != group:
            group = row["group"]
            lines_out.append([group])
        cells = []
        for t in tools:
            v = row["values"].get(t, {})
            if t in header_notes:
                cells.append("n/a" + header_notes[t])
            elif "median" in v and "error" not in v:
                cells.append(fmt_value(v["median"], row["unit"]))
            elif "na" in v:
                cells.append("n/a" + note(f"{t}: {v['na']}"))
            else:
                cells.append("error" + note(f"{t}: not available: {v.get('error')}"))
        if show_ratios:
            for p in peers:
                r = row["ratios"].get(f"{p}/{BASE}")
                cells.append(fmt_ratio(r) if row.get("ratios") else "")
        lines_out.append([row["label"], *cells])

    widths = [0] * len(head)
    for line in lines_out:
        if len(line) == 1:
            continue
        for i, c in enumerate(line):
            widths[i] = max(widths[i], len(c))
    widths = [min(w, 60) for w in widths]

    def render(line):
        if len(line) == 1:
            return line[0]
        parts = [line[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    m = doc["machine"]
    out = []
    out.append(
        f"lineage benchmark ({doc['mode']}), {doc['date']}; figures are medians"
        f" ({doc['settings']['repeats']} runs; heavy workloads"
        f" {doc['settings']['heavy_repeats']})"
    )
    out.append(
        f"machine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB,"
        f" {m['platform']}, Python {m['python']}"
    )
    vers = ", ".join(
        f"{t} {doc['tools'][t].get('version') or '(not installed)'}" for t in tools
    )
    out.append(f"tools: {vers}")
    if m.get("load_average_at_start") is not None:
        out.append(
            f"load average (1, 5, 15 min) at start {m['load_average_at_start']},"
            f" at end {m.get('load_average_at_end')}: other work on the machine adds noise"
        )
    out.append("")
    out.extend(render(line) for line in lines_out)
    if footnotes:
        out.append("")
        for text, i in footnotes.items():
            out.append(f"[{i}] {text}")
    if doc.get("offline_checks"):
        out.append("")
        out.append("offline checks (track + save an artifact, network watched):")
        for t, chk in doc["offline_checks"].items():
            for name, c in chk.items():
                status = "ok" if c.get("ok") else f"FAILED: {c.get('error')}"
                net = c.get("network") or []
                attempts = f"{len(net)} network attempt(s)" + (
                    f": {', '.join(sorted(set(net))[:4])}" if net else ""
                )
                out.append(f"  {t} {name}: {status}; {attempts}")
    if doc.get("notes"):
        out.append("")
        out.append("notes:")
        out.extend(f"  - {n}" for n in doc["notes"])
    t = doc["timing"]
    out.append("")
    out.append(
        f"time: {t['benchmark_s']:.0f} s benchmark"
        f" + {t['env_s']:.0f} s preparing venvs ({t.get('env_detail', '')})"
    )
    return "\n".join(out)


def write(doc: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
