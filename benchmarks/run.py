"""Benchmark the cost of tracking: lineage against LaminDB and MLflow.

    python benchmarks/run.py            # full run (1 GiB file, 500 steps, ...)
    python benchmarks/run.py --quick    # routine use: under two minutes

Each tool runs in its own virtual environment (benchmarks/envs.py), every
measurement in a fresh subprocess (benchmarks/workloads/), every workload on a
fresh copy of a freshly initialised instance, and the tools are interleaved
run by run. The table of medians and peer/lineage ratios is printed and
written to benchmarks/results/latest.json (and .txt). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs  # noqa: E402
import report  # noqa: E402
from report import Cell  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
WORKLOADS = BENCH_DIR / "workloads"
MARK = "BENCH_RESULT "
NO_LINEAGE_GRAPH = "n/a (no artifact-level lineage)"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Running one measurement
# --------------------------------------------------------------------------


#: GNU time, the launcher that measures a script's own peak memory (None: missing).
GNU_TIME = shutil.which("time", path="/usr/bin:/bin") if sys.platform.startswith("linux") else None
NO_RSS = "peak memory needs GNU time at /usr/bin/time (apt-get install time)"


@dataclass
class Proc:
    wall_s: float
    returncode: int
    maxrss_mib: float | None  # None: not measured (no launcher, or it was killed)
    stdout: str
    stderr: str
    result: dict | None
    error: str | None


def error_text(stdout: str, stderr: str, returncode: int) -> str:
    """The exception line of a failed script (e.g. "AttributeError: ..."), or
    the last thing it said."""
    text = stderr if stderr.strip() else stdout
    lines = text.splitlines()
    if "Traceback (most recent call last):" in text:
        start = max(i for i, l in enumerate(lines) if l.startswith("Traceback"))
        tail = [l for l in lines[start + 1 :] if l.strip() and not l.startswith(" ")]
        if tail:
            return " | ".join(tail)[:600]
    meaningful = [l.strip() for l in lines if l.strip()]
    last = meaningful[-1] if meaningful else "(no output)"
    return f"exit code {returncode}: {last}"[:600]


def run_proc(
    argv: list[str], cwd: Path, env: dict, timeout: float, expect_result: bool = True,
    measure_rss: bool = False,
) -> Proc:
    """Run argv, timing the whole process.

    With `measure_rss`, the process is started by GNU time (``/usr/bin/time
    -f %M``), which reports the peak resident set of the script's process
    (and of the subprocesses it waited for) from its own ``wait4()``. The
    harness's own ``wait4()`` cannot: a child forked from it starts with the
    harness's memory, and ``ru_maxrss`` keeps that peak across ``exec``, so
    every script would read at least the harness's size. GNU time is a
    small C program, so its floor is a few MiB below any Python process.
    """
    rss_file = None
    if measure_rss and GNU_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file, *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, _usage = os.wait4(p.pid, 0)
        except BaseException:  # Ctrl-C: take the child's process group down too
            kill()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    result = None
    for line in stdout.splitlines():
        if line.startswith(MARK):
            result = json.loads(line[len(MARK) :])
    error = None
    if timed_out.is_set():
        error = f"timed out after {timeout:.0f} s"
    elif p.returncode != 0:
        error = error_text(stdout, stderr, p.returncode)
    elif result is None and expect_result:
        error = "no result line in output: " + error_text(stdout, stderr, 0)
    maxrss = None
    if rss_file is not None:
        maxrss = _read_rss_mib(rss_file)
        os.unlink(rss_file)
    return Proc(wall, p.returncode, maxrss, stdout, stderr, result, error)


def _read_rss_mib(path: str) -> float | None:
    """The peak RSS GNU time wrote (its last line, in KiB), or None."""
    try:
        lines = Path(path).read_text().split()
        return int(lines[-1]) / 1024 if lines else None
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------
# One tool: its environment, instance and workloads
# --------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    env: envs.ToolEnv
    work: Path
    timeout: float
    setup_error: str | None = None
    setup_s: float | None = None
    failed: dict = field(default_factory=dict)  # workload -> error text

    @property
    def inst(self) -> Path:
        return self.work / self.name / "inst"

    @property
    def snapshot(self) -> Path:
        return self.work / self.name / "snapshot"

    def params(self) -> dict:
        """Where this tool's instance lives (fixed paths: a restored snapshot
        is at the same absolute path, so the paths stored inside stay true)."""
        if self.name == "mlflow":
            return {
                "tracking_uri": f"sqlite:///{self.inst / 'mlflow.db'}",
                "artifact_uri": (self.inst / "artifacts").as_uri(),
            }
        return {"storage": str(self.inst / "data")}

    def environ(self, params: dict, netlog: Path | None = None) -> dict:
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("LAMIN_", "LAMINDB_", "MLFLOW_", "LINEAGE_", "BENCH_"))
            and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        }
        env["HOME"] = str(self.inst / "home")
        env["BENCH_PARAMS"] = json.dumps(params)
        python_bin = str(Path(self.env.python).parent)
        env["PATH"] = python_bin + os.pathsep + env.get("PATH", "")
        if self.env.action == "current interpreter":
            env["PYTHONPATH"] = str(envs.REPO)
        if self.name == "lamindb":
            env["LAMIN_SETTINGS_DIR"] = str(self.inst / "lamin-settings")
            env["LAMIN_CACHE_DIR"] = str(self.inst / "lamin-cache")
        if self.name == "mlflow":
            env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        if netlog is not None:
            env["BENCH_NETLOG"] = str(netlog)
        return env

    def run(self, workload: str | None, extra: dict | None = None, code: str | None = None,
            netlog: Path | None = None, measure_rss: bool = False) -> Proc:
        params = {**self.params(), **(extra or {})}
        if code is not None:
            argv = [self.env.python, "-c", code]
            expect = False
        else:
            argv = [self.env.python, str(WORKLOADS / f"{workload}.py")]
            expect = True
        self.inst.mkdir(parents=True, exist_ok=True)
        return run_proc(argv, self.inst, self.environ(params, netlog), self.timeout, expect,
                        measure_rss=measure_rss)

    def has(self, workload: str) -> bool:
        return (WORKLOADS / f"{self.name}_{workload}.py").exists()

    def restore(self) -> None:
        """A fresh instance: the snapshot taken right after initialisation."""
        if self.inst.exists():
            shutil.rmtree(self.inst)
        if self.snapshot.exists():
            shutil.copytree(self.snapshot, self.inst, symlinks=True)
        else:
            (self.inst / "home").mkdir(parents=True)

    def setup(self) -> None:
        for d in (self.inst, self.snapshot):
            if d.exists():
                shutil.rmtree(d)
        (self.inst / "home").mkdir(parents=True)
        netlog = self.work / self.name / "setup-net.json"
        p = self.run(f"{self.name}_init", netlog=netlog)
        self.setup_s = p.wall_s
        if p.error:
            self.setup_error = f"instance setup failed: {p.error}"
            return
        shutil.copytree(self.inst, self.snapshot, symlinks=True)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def make_data(folder: Path, big_bytes: int, n_small: int, small_bytes: int) -> dict:
    """Random (incompressible, all distinct) input data, reused between runs."""
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / f"big-{big_bytes}.bin"
    if not big.exists() or big.stat().st_size != big_bytes:
        log(f"[data] writing {big} ({big_bytes / 2**20:.0f} MiB)")
        tmp = big.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            left = big_bytes
            while left:
                chunk = min(left, 16 * 2**20)
                f.write(os.urandom(chunk))
                left -= chunk
        tmp.rename(big)
    out = {"big": str(big)}
    for name in ("a", "b"):
        d = folder / f"small-{n_small}x{small_bytes}-{name}"
        if not d.exists() or len(os.listdir(d)) != n_small:
            if d.exists():
                shutil.rmtree(d)
            tmp = d.with_name(d.name + ".tmp")
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir()
            for i in range(n_small):
                (tmp / f"{i:05d}.txt").write_bytes(os.urandom(small_bytes))
            tmp.rename(d)
        out[f"small_{name}"] = str(d)
    check = folder / "offline-check.txt"
    check.write_text(f"offline check {time.time()}\n")
    out["file"] = str(check)
    return out


def warm_page_cache(data: dict) -> None:
    """Read the input files once, so that every timed run finds them cached."""
    paths = [data["big"]]
    for key in ("small_a", "small_b"):
        paths += [os.path.join(data[key], n) for n in os.listdir(data[key])]
    for path in paths:
        with open(path, "rb") as f:
            while f.read(16 * 2**20):
                pass


# --------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------


class Bench:
    def __init__(self, args, tools: list[Tool], data: dict, sizes: dict):
        self.args = args
        self.tools = tools
        self.data = data
        self.sizes = sizes
        self.cells: dict[str, dict[str, Cell]] = {}
        self.notes: list[str] = []
        self.offline: dict = {}

    def cell(self, metric: str, tool: str) -> Cell:
        return self.cells.setdefault(metric, {}).setdefault(tool, Cell())

    def add(self, metric: str, tool: str, value) -> None:
        self.cell(metric, tool).samples.append(value)

    def fail(self, metrics: list[str], tool: Tool, workload: str, error: str) -> None:
        tool.failed[workload] = error
        for m in metrics:
            c = self.cell(m, tool.name)
            if not c.error:
                c.error = error

    def na(self, metrics: list[str], tool: str, reason: str) -> None:
        for m in metrics:
            self.cell(m, tool).na = reason

    def order(self, r: int) -> list[Tool]:
        """Interleave: every repeat runs every tool, starting with a different one."""
        live = [t for t in self.tools if t.env.available]
        k = r % len(live) if live else 0
        return live[k:] + live[:k]

    def usable(self, tool: Tool, workload: str, metrics: list[str], needs_instance=True) -> bool:
        if workload in tool.failed:
            return False
        if needs_instance and tool.setup_error:
            self.fail(metrics, tool, workload, tool.setup_error)
            return False
        return True

    # 1. cold import ---------------------------------------------------------
    def w_import(self) -> None:
        metrics = ["import.process_s", "import.inproc_s", "import.python_s"]
        log("[2/6] cold import")
        for t in self.order(0):
            t.restore()
            if self.args.warmup:  # .pyc files and page cache
                t.run(f"{t.name}_import")
                t.run(None, code="pass")
        for r in range(self.args.repeats):
            for t in self.order(r):
                if not self.usable(t, "import", metrics, needs_instance=False):
                    continue
                base = t.run(None, code="pass")
                p = t.run(f"{t.name}_import")
                if p.error:
                    self.fail(metrics, t, "import", p.error)
                    continue
                self.add("import.python_s", t.name, base.wall_s)
                self.add("import.process_s", t.name, p.wall_s)
                self.add("import.inproc_s", t.name, p.result["import_s"])
                log(f"      {t.name:8s} r{r + 1}: {p.wall_s:.3f} s"
                    f" (python alone {base.wall_s:.3f} s)")

    # 2. whole script, 6. memory -------------------------------------------------
    def w_script(self) -> None:
        metrics = ["script.tracked_s", "script.untracked_s", "script.overhead_s",
                   "memory.tracked_mib", "memory.untracked_mib"]
        log("[1/6] whole tracked script vs untracked (the headline); peak memory")
        for t in self.order(0):
            if self.usable(t, "script", metrics):
                t.restore()
                if self.args.warmup:  # the first run in an instance creates the transform
                    p = t.run(f"{t.name}_script")
                    if p.error:
                        self.fail(metrics, t, "script", p.error)
        for r in range(self.args.repeats):
            for t in self.order(r):
                if not self.usable(t, "script", metrics):
                    continue
                pair = ["plain_script", f"{t.name}_script"]
                if r % 2:
                    pair.reverse()
                res = {name: t.run(name, measure_rss=True) for name in pair}
                plain, tracked = res["plain_script"], res[f"{t.name}_script"]
                if tracked.error or plain.error:
                    self.fail(metrics, t, "script", tracked.error or plain.error)
                    continue
                self.add("script.tracked_s", t.name, tracked.wall_s)
                self.add("script.untracked_s", t.name, plain.wall_s)
                self.add("script.overhead_s", t.name, tracked.wall_s - plain.wall_s)
                for metric, proc in (("memory.tracked_mib", tracked),
                                     ("memory.untracked_mib", plain)):
                    if proc.maxrss_mib is None:
                        self.cell(metric, t.name).error = NO_RSS
                    else:
                        self.add(metric, t.name, proc.maxrss_mib)
                rss = "-" if tracked.maxrss_mib is None else f"{tracked.maxrss_mib:.0f}"
                log(f"      {t.name:8s} r{r + 1}: tracked {tracked.wall_s:.3f} s,"
                    f" untracked {plain.wall_s:.3f} s, {rss} MiB")

    # 3. per step -----------------------------------------------------------
    #: Runs of the step workload besides each tool's default, for the rows at
    #: equal SQLite durability: metric -> {tool: extra params}. lineage's
    #: default is WAL + synchronous=NORMAL, so its default run serves the
    #: NORMAL row; MLflow is set to each level by a connect hook.
    STEP_LEVELS = {
        "steps.normal_per_step_s": {"mlflow": {"sqlite": "NORMAL"}},
        "steps.full_per_step_s": {"lineage": {"durability": "full"},
                                  "mlflow": {"sqlite": "FULL"}},
    }

    def w_steps(self) -> None:
        metrics = ["steps.per_step_s", "steps.per_call_median_s", "steps.calls",
                   "steps.flow_overhead_s"]
        n, budget = self.sizes["n_steps"], self.sizes["step_budget_s"]
        cap = f", at most {budget} s" if budget else ""
        log(f"[3/6] overhead per step ({n} calls{cap})")
        modes: dict[str, str] = {}
        for r in range(self.args.heavy_repeats):
            for t in self.order(r):
                if not self.usable(t, "steps", metrics):
                    continue
                t.restore()
                p = t.run(f"{t.name}_steps", {"n": n, "budget_s": budget})
                if p.error:
                    self.fail(metrics, t, "steps", p.error)
                    continue
                res = p.result
                self.add("steps.per_step_s", t.name, res["per_step_s"])
                self.add("steps.per_call_median_s", t.name, res["per_call_median_s"])
                self.add("steps.calls", t.name, res["calls"])
                self.add("steps.flow_overhead_s", t.name, res["flow_overhead_s"])
                modes.setdefault(f"{t.name} default", res.get("sqlite_mode", "?"))
                if t.name == "lineage":  # its default is the NORMAL level
                    self.add("steps.normal_per_step_s", t.name, res["per_step_s"])
                log(f"      {t.name:8s} r{r + 1}: {res['per_step_s'] * 1e3:.2f} ms/step"
                    f" over {res['calls']} calls")
                for metric, extras in self.STEP_LEVELS.items():
                    if t.name not in extras:
                        continue
                    t.restore()
                    p = t.run(f"{t.name}_steps", {"n": n, "budget_s": budget, **extras[t.name]})
                    if p.error:
                        self.cell(metric, t.name).error = p.error
                        continue
                    self.add(metric, t.name, p.result["per_step_s"])
                    label = metric.split(".")[1].split("_")[0].upper()
                    modes.setdefault(f"{t.name} at {label}", p.result.get("sqlite_mode", "?"))
                    log(f"      {t.name:8s} r{r + 1} at {label}:"
                        f" {p.result['per_step_s'] * 1e3:.2f} ms/step")
        for t in self.tools:
            if t.name not in ("lineage", "mlflow"):
                self.na(list(self.STEP_LEVELS), t.name,
                        "measured at its default only (its ~0.3 s per step is pip freeze,"
                        " not the database)")
        if modes:
            self.notes.append("SQLite mode of the step runs: " + "; ".join(
                f"{k}: {v}" for k, v in modes.items()))
            self.notes.append(
                "lineage at durability 'full' commits a step inside an open flow without an"
                " fsync and fsyncs the flow's end, which makes the steps durable too"
                " (docs/concurrency.md); MLflow at FULL fsyncs every commit")

    # 4. saves --------------------------------------------------------------
    def w_saves(self) -> None:
        metrics = ["save.big_s", "save.big_again_s", "save.small_bulk_s",
                   "save.small_each_s", "save.small_again_s"]
        base_metrics = ["save.big_cp_s", "save.small_cp_s"]
        log(f"[4/6] saves: {self.sizes['big_label']} file and {self.sizes['n_small']} small files")
        params = {k: self.data[k] for k in ("big", "small_a", "small_b")}
        for r in range(self.args.heavy_repeats):
            for t in self.order(r):
                if not self.usable(t, "saves", metrics + base_metrics):
                    continue
                t.restore()
                dest = t.inst / "cp-baseline"
                dest.mkdir()
                # inputs read from the page cache by everyone (else the first reader
                # pays the disk), and no dirty pages left by the previous run, or the
                # kernel's writeback throttling lands on whoever writes next
                warm_page_cache(self.data)
                os.sync()
                big = run_proc(["cp", self.data["big"], str(dest / "big.bin")], t.inst,
                               dict(os.environ), t.timeout, expect_result=False)
                os.sync()
                small = run_proc(["cp", "-r", self.data["small_a"], str(dest / "small")],
                                 t.inst, dict(os.environ), t.timeout, expect_result=False)
                shutil.rmtree(dest)
                os.sync()
                for metric, proc in (("save.big_cp_s", big), ("save.small_cp_s", small)):
                    if proc.error:
                        self.cell(metric, t.name).error = "cp failed: " + proc.error
                    else:
                        self.add(metric, t.name, proc.wall_s)
                p = t.run(f"{t.name}_saves", params)
                if p.error:
                    self.fail(metrics, t, "saves", p.error)
                    continue
                res = p.result
                for key in ("big_s", "big_again_s", "small_bulk_s", "small_each_s",
                            "small_again_s"):
                    self.add(f"save.{key}", t.name, res[key])
                if t.name == "lineage":
                    same = self.same_work_saves(t, params)
                else:  # the peers' default is the same work: no fsync
                    same = {"big_s": res["big_s"], "small_bulk_s": res["small_bulk_s"]}
                for key, value in same.items():
                    self.add(f"save.same_{key}", t.name, value)
                if r == 0:
                    self.notes.append(
                        f"{t.name}: saving the identical {self.sizes['big_label']} file again "
                        + ("returned the existing record" if res.get("big_again_same_record")
                           else "made a new copy (no deduplication)")
                    )
                log(f"      {t.name:8s} r{r + 1}: big {res['big_s']:.2f} s (cp {big.wall_s:.2f} s),"
                    f" small bulk {res['small_bulk_s']:.2f} s, each {res['small_each_s']:.2f} s")

    def same_work_saves(self, t: Tool, params: dict) -> dict:
        """lineage's saves without any fsync (as the peers): the "same work" rows."""
        t.restore()
        warm_page_cache(self.data)
        os.sync()
        p = t.run(f"{t.name}_saves", {**params, "no_fsync": True})
        if p.error:
            for m in ("save.same_big_s", "save.same_small_bulk_s"):
                self.cell(m, t.name).error = p.error
            return {}
        log(f"      {t.name:8s} without fsync: big {p.result['big_s']:.2f} s,"
            f" small bulk {p.result['small_bulk_s']:.2f} s")
        return {"big_s": p.result["big_s"], "small_bulk_s": p.result["small_bulk_s"]}

    # 5. lineage --------------------------------------------------------------
    def w_lineage(self) -> None:
        metrics = ["lineage.walk_s", "lineage.walk_found", "lineage.graph_s",
                   "lineage.view_s", "chain.per_link_s"]
        n = self.sizes["n_chain"]
        log(f"[5/6] upstream lineage of the last artifact of a {n}-step chain")
        built = []
        for t in self.order(0):
            if not t.has("chain"):
                self.na(metrics, t.name, NO_LINEAGE_GRAPH)
                continue
            if not self.usable(t, "chain", metrics):
                continue
            t.restore()
            method = self.sizes["chain_method"].get(t.name, "steps")
            p = t.run(f"{t.name}_chain", {"n": n, "method": method,
                                          "scratch": str(t.inst / "chain-files")})
            if p.error:
                self.fail(metrics, t, "chain", "building the chain failed: " + p.error)
                continue
            self.add("chain.per_link_s", t.name, p.result["per_link_s"])
            log(f"      {t.name:8s} chain built in {p.result['build_s']:.1f} s ({method})")
            if method != "steps":
                self.notes.append(
                    f"{t.name}: the {n}-step chain was built with explicit run records"
                    " (same graph) instead of a flow of steps, to keep this mode short;"
                    " 'building the chain, per link' is not comparable then"
                )
            built.append(t.name)
        for r in range(self.args.repeats):
            for t in self.order(r):
                if t.name not in built:
                    continue
                what_metrics = {"walk": ["lineage.walk_s", "lineage.walk_found"],
                                "graph": ["lineage.graph_s"], "view": ["lineage.view_s"]}
                # one fresh process per measure; --quick runs the three in one process
                groups = [["walk", "graph", "view"]] if self.args.quick else [
                    ["walk"], ["graph"], ["view"]]
                done = []
                for group in groups:
                    group = [w for w in group if f"lineage-{w}" not in t.failed]
                    if not group:
                        continue
                    p = t.run(f"{t.name}_lineage", {"n": n, "what": ",".join(group)})
                    if p.error:
                        for what in group:
                            self.fail(what_metrics[what], t, f"lineage-{what}", p.error)
                        done.append(f"{'+'.join(group)} failed")
                        continue
                    res = p.result
                    if "walk" in group:
                        self.add("lineage.walk_s", t.name, res["walk_s"])
                        self.add("lineage.walk_found", t.name, res["found"])
                        done.append(f"walk {res['walk_s']:.3f} s ({res['found']} found)")
                    if "graph" in group:
                        self.add("lineage.graph_s", t.name, res["graph_s"])
                        done.append(f"graph {res['graph_s']:.3f} s")
                    if "view" in group and "view_s" in res:
                        self.add("lineage.view_s", t.name, res["view_s"])
                        done.append(f"view {res['view_s']:.3f} s")
                    elif "view" in group:  # graphviz missing or broken: the text, no number
                        self.fail(what_metrics["view"], t, "lineage-view",
                                  res.get("view_error") or "no SVG written")
                        done.append("view failed")
                log(f"      {t.name:8s} r{r + 1}: " + ", ".join(done))
        for t in self.tools:
            found = self.cell("lineage.walk_found", t.name).median()
            if found is not None and found != n - 1:
                self.notes.append(
                    f"{t.name}: the upstream walk found {found:g} of {n - 1} artifacts")

    # offline checks ----------------------------------------------------------
    def offline_checks(self) -> None:
        log("[0/6] offline checks (network watched)")
        for t in self.order(0):
            if t.setup_error or not t.has("offline"):
                continue
            variants = {"as configured": {}}
            if t.name == "lamindb":
                variants = {"with _is_on_hub = False": {"hub_flag": True}}
                if not self.args.quick:  # about 5 s of HTTP retries
                    variants["as installed (no switch)"] = {"hub_flag": False}
            net_setup = t.work / t.name / "setup-net.json"
            checks = {"instance setup": {"ok": True, "network": _read_json(net_setup)}}
            for label, extra in variants.items():
                t.restore()
                netlog = t.work / t.name / "offline-net.json"
                if netlog.exists():
                    netlog.unlink()
                p = t.run(f"{t.name}_offline", {**extra, "file": self.data["file"]}, netlog=netlog)
                checks[label] = {"ok": p.error is None, "error": p.error,
                                 "seconds": round(p.wall_s, 2), "network": _read_json(netlog)}
                log(f"      {t.name:8s} {label}: {'ok' if p.error is None else p.error[:100]}")
            self.offline[t.name] = checks


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="routine mode: fewer repeats, 100 MiB, 200 small files, 100 steps")
    ap.add_argument("--tools", default="lineage,lamindb,mlflow",
                    help="comma-separated subset of lineage,lamindb,mlflow")
    ap.add_argument("--repeats", type=int, help="runs per light workload (default 5; quick 3)")
    ap.add_argument("--heavy-repeats", type=int,
                    help="runs of the steps and saves workloads (default 3; quick 1)")
    ap.add_argument("--big-mib", type=int,
                    help="size of the big file in MiB (default 1024; quick 100)")
    ap.add_argument("--small-files", type=int,
                    help="number of small files (default 1000; quick 200)")
    ap.add_argument("--steps", type=int, help="step calls (default 500; quick 100)")
    ap.add_argument("--chain", type=int,
                    help="length of the lineage chain (default 200; quick 100)")
    ap.add_argument("--out", default=str(BENCH_DIR / "results" / "latest.json"),
                    help="JSON output (a .txt table is written next to it)")
    ap.add_argument("--workdir", default=str(BENCH_DIR / ".work"),
                    help="scratch folder for instances and data (default benchmarks/.work)")
    ap.add_argument("--no-venv", action="store_true",
                    help="run lineage with this interpreter instead of its own venv")
    ap.add_argument("--spec", action="append", default=[], metavar="SPEC",
                    help="install a tool from another pip spec: a requirement naming it"
                         " (lamindb==2.12.1) or TOOL=PIP_SPEC (lineage=/path/to/lineage.whl)")
    ap.add_argument("--keep", action="store_true", help="keep the instances in --workdir")
    ap.add_argument("--timeout", type=float,
                    help="seconds one measurement may take before it is killed and reported"
                         " as timed out (default 3600; quick 120)")
    args = ap.parse_args(argv)
    q = args.quick
    args.repeats = args.repeats or (3 if q else 5)
    args.heavy_repeats = args.heavy_repeats or (1 if q else 3)
    args.warmup = not q  # one discarded run before import and script timings
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in args.tools:
        if t not in report.TOOLS:
            ap.error(f"unknown tool {t!r}; choose from {', '.join(report.TOOLS)}")
    return args


def parse_spec(text: str) -> tuple[str, str]:
    """`lamindb==2.12.1` (a requirement naming the tool) or `lineage=/path/to/wheel`
    (TOOL=PIP_SPEC) -> (tool, pip spec)."""
    m = re.match(r"([A-Za-z0-9_.-]+)(=(?!=))?(.*)$", text)
    name = m.group(1).lower() if m else ""
    if name not in report.TOOLS:
        raise SystemExit(f"--spec {text!r}: name one of {', '.join(report.TOOLS)} first")
    return name, (m.group(3) if m.group(2) else text)


def sizes_for(args) -> dict:
    q = args.quick
    big_mib = args.big_mib or (100 if q else 1024)
    return {
        "big_bytes": big_mib * 2**20,
        "big_label": f"{big_mib // 1024} GiB" if big_mib % 1024 == 0 else f"{big_mib} MiB",
        "n_small": args.small_files or (200 if q else 1000),
        "small_bytes": 4096,
        "n_steps": args.steps or (100 if q else 500),
        # --quick caps the step loop's time per tool; the calls made are reported
        "step_budget_s": 3.0 if q else None,
        "n_chain": args.chain or (100 if q else 200),
        "chain_method": {"lamindb": "runs"} if q else {},
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    specs = dict(parse_spec(s) for s in args.spec)
    t0 = time.perf_counter()
    tool_envs = {}
    for name in args.tools:
        tool_envs[name] = envs.ensure(name, spec=specs.get(name),
                                      no_venv=args.no_venv and name == "lineage", log=log)
        e = tool_envs[name]
        log(f"[env] {name}: " + (f"{e.version} ({e.action})" if e.available
                                 else f"not available: {e.error}"))
    env_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    work = Path(args.workdir).resolve()
    sizes = sizes_for(args)
    data = make_data(work / "data", sizes["big_bytes"], sizes["n_small"], sizes["small_bytes"])
    timeout = args.timeout or (120 if args.quick else 3600)
    tools = [Tool(n, tool_envs[n], work, timeout) for n in args.tools]
    for t in tools:
        if t.env.available:
            t.setup()
            log(f"[setup] {t.name}: " + (t.setup_error or f"instance ready in {t.setup_s:.1f} s"))

    bench = Bench(args, tools, data, sizes)
    stages = {"setup_s": round(time.perf_counter() - t1, 1)}
    for stage in ("offline_checks", "w_script", "w_import", "w_steps", "w_saves", "w_lineage"):
        ts = time.perf_counter()
        getattr(bench, stage)()
        stages[stage.removeprefix("w_") + "_s"] = round(time.perf_counter() - ts, 1)
    for t in tools:
        if not t.env.available:
            for m in report.metrics(sizes):
                bench.cell(m.id, t.name).error = t.env.error
    if sizes["step_budget_s"]:
        bench.notes.append(
            f"--quick stops a step loop after {sizes['step_budget_s']:g} s; "
            "'step calls measured' says how many calls the figures rest on"
        )
    if "lamindb" in bench.offline and args.quick:
        bench.notes.append(
            "lamindb as installed (without _is_on_hub = False) is checked in full runs only,"
            " to save its HTTP retries here (see benchmarks/README.md)"
        )
    bench.notes.append(
        "the work of a save differs: lineage hashes every byte of every file (SHA-256)"
        + (", LaminDB hashes files over 50 MiB from their first and last 50 MiB only"
           f" (100 MiB of the {sizes['big_label']} file)" if "lamindb" in args.tools else "")
        + (", MLflow hashes nothing" if "mlflow" in args.tools else "")
        + "; only lineage fsyncs a saved file (and its folder) before the save returns,"
        " the peers leave it in the page cache. The 'same work' rows run lineage without"
        " any fsync (its object store's durable flag off, the database at its default"
        " 'normal'); a LaminDB run hashing whole files cannot be made"
    )
    bench.notes.append(
        "the import row is not like for like: `import lineage` only binds names (it"
        " connects on first use), `import lamindb` connects to the instance in the working"
        " folder; the tracked-script row (import, run, finish) is the comparable headline"
    )
    bench.notes.append(
        "the drawings differ: lineage's graph of a flow also has the flow run, and"
        " view_lineage merges large groups of look-alike nodes (collapse=True, its default);"
        " LaminDB's shows artifacts and runs"
    )

    bench_s = time.perf_counter() - t1
    env_detail = ", ".join(f"{n} {e.action} {e.setup_s:.0f} s" for n, e in tool_envs.items())
    results = {
        "date": report.now(),
        "mode": "quick" if args.quick else "full",
        "settings": {"repeats": args.repeats, "heavy_repeats": args.heavy_repeats,
                     "warmup_runs": int(args.warmup), "timeout_s": timeout,
                     "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])])},
        "sizes": sizes,
        "machine": {**report.machine(), "load_average_at_start": load_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "tools": {
            t.name: {**t.env.as_dict(),
                     "instance_setup_s": round(t.setup_s, 2) if t.setup_s else None,
                     "instance_setup_error": t.setup_error}
            for t in tools
        },
        "tools_run": args.tools,
        "timing": {"benchmark_s": round(bench_s, 1), "env_s": round(env_s, 1),
                   "env_detail": env_detail, "stages": stages},
        "offline_checks": bench.offline,
        "notes": bench.notes,
        "cells": bench.cells,
    }
    doc = report.build(results)
    text = report.table(doc)
    print(text)
    out = Path(args.out)
    report.write(doc, out)
    out.with_suffix(".txt").write_text(text + "\n")
    log(f"\nwritten: {out} and {out.with_suffix('.txt')}")
    if not args.keep:
        for t in tools:
            shutil.rmtree(work / t.name, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
