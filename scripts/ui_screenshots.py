"""Screenshots of `lineage ui` for docs/ui.md, over the demo instance.

Runs examples/pipeline.py three times (different seeds and sizes) into a
fresh embedded instance, serves it with the real ``lineage ui`` command and
drives Debian's headless Chromium (the same browser setup as the UI tests,
network shut) through the runs page, a run, the lineage graph, an artifact,
a transform and a comparison, writing ``docs/images/ui-*.png``.

    bash scripts/ui_screenshots.sh            # sets up .venvs/demo, then runs this
    python scripts/ui_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from browser import Browser  # noqa: E402 - the UI tests' browser, shared on purpose
from conftest import start_ui  # noqa: E402


def demo_instance(folder: Path, env: dict[str, str]) -> None:
    """Three runs of the example pipeline in a new instance at `folder`."""
    for rows, seed in ((200, 0), (500, 1), (120, 2)):
        subprocess.run([sys.executable, str(ROOT / "examples" / "pipeline.py"), "--rows",
                        str(rows), "--seed", str(seed), "--output", str(folder / "l.svg")],
                       check=True, cwd=folder, env={**os.environ, **env},
                       stdout=subprocess.DEVNULL)


def api(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lineage-ui-shots-") as tmp:
        work = Path(tmp)
        env = {"LINEAGE_CONFIG_DIR": str(work / "config"),
               "LINEAGE_INSTANCE": str(work / "instance")}
        subprocess.run([sys.executable, "-m", "lineage", "init", "--storage",
                        str(work / "instance")], check=True, env={**os.environ, **env},
                       stdout=subprocess.DEVNULL)
        demo_instance(work, env)
        server = start_ui(str(work / "instance"), env=env)
        browser = Browser(work / "profile", args.out)
        try:
            base = server.url
            flows = api(base + "/api/runs?where=params.rows%20>%200&sort=-started_at")["runs"]
            report = api(base + "/api/runs?q=report&limit=1")["runs"][0]
            run = api(base + f"/api/runs/{report['uid']}")
            final = run["outputs"]["items"][0]
            browser.open(base + "/runs?sort=-started_at")
            browser.shot("ui-runs")
            browser.open(base + "/runs?where=params.rows%20%3E%20150&sort=-params.rows")
            browser.shot("ui-runs-filtered")
            browser.open(base + f"/runs/{report['uid']}")
            browser.shot("ui-run")
            browser.open(base + f"/graph/{final['uid']}?up=6&down=1")
            browser.wait(lambda: browser.css("#graph").get_attribute("data-ready") == "1")
            browser.shot("ui-graph")
            clean = api(base + "/api/runs?q=clean&limit=1")["runs"][0]
            cleaned = api(base + f"/api/runs/{clean['uid']}")["outputs"]["items"][0]
            browser.open(base + f"/artifacts/{cleaned['uid']}")
            browser.shot("ui-artifact")
            browser.open(base + f"/transforms/{report['transform']['uid']}")
            browser.shot("ui-transform")
            browser.open(base + "/compare?runs=" + ",".join(r["uid"] for r in flows[:3]))
            browser.shot("ui-compare")
            browser.collect()
            foreign = [u for u in browser.requests if not u.startswith((base, "data:", "chrome:",
                                                                        "about:"))]
            if foreign:
                raise SystemExit(f"the UI requested other hosts: {foreign}")
        finally:
            browser.quit()
            server.stop()
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
