"""Cold ``import lineage`` time against a bare interpreter, in fresh processes.

Usage: python benchmarks/import_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_ms(code: str, repeats: int) -> float:
    """Median wall time of ``python -c code`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    bare = median_ms("pass", args.repeats)
    imported = median_ms("import lineage", args.repeats)
    touched = median_ms("import lineage as ln; ln.Artifact; ln.Run; ln.track", args.repeats)
    print(f"python -c pass:                 {bare:7.1f} ms")
    print(f"import lineage:                 {imported:7.1f} ms  (+{imported - bare:.1f} ms)")
    print(f"import + registries + tracking: {touched:7.1f} ms  (+{touched - bare:.1f} ms)")


if __name__ == "__main__":
    main()
