"""``transform.version_tag``: a label besides the integer version, queryable and shown."""

from __future__ import annotations

import json
import urllib.request

from click.testing import CliRunner

import lineage as ln
from lineage import lifecycle
from lineage.cli import build


def _tagged() -> tuple[ln.Transform, ln.Run]:
    lifecycle.get_or_create_transform("train.py", "print('v1')\n", "script")
    transform = lifecycle.get_or_create_transform("train.py", "print('v2')\n", "script")
    run = lifecycle.start_run(transform)
    lifecycle.finish_run(run)
    transform.version_tag = "T1"
    transform.save()
    return transform, run


def test_version_tag_is_saved_and_queryable(instance) -> None:
    transform, _ = _tagged()
    found = ln.Transform.filter(version_tag="T1").all()
    assert [(t.key, t.version, t.version_tag) for t in found] == [("train.py", 2, "T1")]
    assert ln.Transform.get(key="train.py", version=1).version_tag is None
    assert "version_tag='T1'" in repr(ln.Transform.get(key="train.py", version=2))
    # a new version of the key is a new record: it has no tag until given one
    v3 = lifecycle.get_or_create_transform("train.py", "print('v3')\n", "script")
    assert v3.version == 3 and v3.version_tag is None
    assert ln.Transform.filter(key="train.py", version_tag="T1").one().version == 2


def test_version_tag_is_shown_wherever_versions_are(instance) -> None:
    transform, run = _tagged()
    shown = CliRunner().invoke(build(), ["show", run.uid], catch_exceptions=False).output
    assert "transform: train.py (v2 T1, script" in shown

    from lineage.graph.describe import transform_tree
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(transform_tree(transform))
    text = console.export_text()
    assert "Transform train.py  v2 T1 (latest)" in text
    assert "v2 T1 uid" in text and "v1 uid" in text  # the versions list


def test_version_tag_in_the_ui(instance) -> None:
    transform, run = _tagged()
    if not instance.db.is_sqlite:
        return  # the UI reads the current instance the same way on both backends
    from lineage.ui.server import run_in_thread

    server = run_in_thread()
    try:
        with urllib.request.urlopen(f"{server.url}api/transforms/{transform.uid}") as answer:
            detail = json.load(answer)
        with urllib.request.urlopen(f"{server.url}transforms/{transform.uid}") as answer:
            page = answer.read().decode()
        with urllib.request.urlopen(f"{server.url}api/runs/{run.uid}") as answer:
            run_detail = json.load(answer)
    finally:
        server.stop()
    assert detail["version_tag"] == "T1"
    assert [(v["version"], v["version_tag"]) for v in detail["versions"]] == [(1, None), (2, "T1")]
    assert run_detail["transform"]["version_tag"] == "T1"
    assert '<span class="tag" id="version-tag">T1</span>' in page
