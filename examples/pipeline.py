"""An example pipeline: raw data -> cleaned -> two summaries -> report.

Run it with ``python examples/pipeline.py [--rows N] [--instance FOLDER]``; it
writes to its own instance (``./lineage-demo`` by default), whatever your
default instance is, and ends by drawing the lineage graph of its final
artifact into ``lineage.svg``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from pathlib import Path

import lineage as ln

WORK = Path(tempfile.mkdtemp(prefix="lineage-demo-"))


@ln.step()
def generate(rows: int, seed: int) -> ln.Artifact:
    """Write a CSV of random measurements."""
    rng = random.Random(seed)
    path = WORK / "measurements.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sample", "group", "value"])
        for i in range(rows):
            writer.writerow([f"s{i}", rng.choice("ABC"), round(rng.gauss(10, 3), 3)])
    return ln.Artifact(path, key="demo/raw/measurements.csv", description="raw measurements").save()


@ln.step()
def clean(raw: ln.Artifact, minimum: float = 0.0) -> ln.Artifact:
    """Drop rows below `minimum`."""
    with raw.open("r") as f:
        rows = [r for r in csv.DictReader(f) if float(r["value"]) >= minimum]
    path = WORK / "clean.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["sample", "group", "value"])
        writer.writeheader()
        writer.writerows(rows)
    return ln.Artifact(path, key="demo/clean/measurements.csv").save()


@ln.step()
def summarize(clean_data: ln.Artifact, by: str) -> ln.Artifact:
    """Mean value per `by` column."""
    with clean_data.open("r") as f:
        rows = list(csv.DictReader(f))
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(r[by], []).append(float(r["value"]))
    summary = {k: round(sum(v) / len(v), 3) for k, v in sorted(groups.items())}
    path = WORK / f"summary_by_{by}.json"
    path.write_text(json.dumps(summary, indent=2))
    return ln.Artifact(path, key=f"demo/summary/by_{by}.json").save()


@ln.step()
def report(*summaries: ln.Artifact) -> ln.Artifact:
    """Combine summaries into one markdown report."""
    lines = ["# Demo report", ""]
    for s in summaries:
        lines += [f"## {s.key}", "", "```", json.dumps(s.load(), indent=2), "```", ""]
    path = WORK / "report.md"
    path.write_text("\n".join(lines))
    return ln.Artifact(path, key="demo/report.md").save()


@ln.flow(project="Demo")
def main(rows: int = 200, seed: int = 0, minimum: float = 2.0) -> ln.Artifact:
    """The whole pipeline."""
    raw = generate(rows, seed)
    cleaned = clean(raw, minimum=minimum)
    by_group = summarize(cleaned, by="group")
    by_sample_prefix = summarize(cleaned, by="sample")
    return report(by_group, by_sample_prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="lineage.svg")
    parser.add_argument("--instance", default="lineage-demo",
                        help="instance folder to write to (created if missing)")
    args = parser.parse_args()
    instance = ln.init(storage=args.instance)  # this process only: your default stays as it is
    print(f"writing to the demo instance {instance.slug}")
    final = main(rows=args.rows, seed=args.seed)
    print(f"final artifact: {final.key} (uid {final.uid}, version {final.version})")
    graph = ln.lineage_graph(final)
    print(f"lineage graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
    final.describe()
    written = final.view_lineage(args.output)
    print(f"lineage graph drawn to {written}")
