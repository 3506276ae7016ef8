"""``lineage transforms``, ``lineage artifacts``, ``lineage delete`` and ``lineage info``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import lineage as ln
from lineage import lifecycle
from lineage.cli import build


def _invoke(*args: str):  # noqa: ANN202
    return CliRunner().invoke(build(), list(args), catch_exceptions=False)


def test_transforms_lists_latest_versions_newest_first(instance) -> None:
    lifecycle.get_or_create_transform("pipelines/prep.py", "print(1)\n", "script")
    prep = lifecycle.get_or_create_transform("pipelines/prep.py", "print(2)\n", "script")
    prep.version_tag = "T1"
    prep.save()
    nb = lifecycle.get_or_create_transform("analysis.ipynb", "{}", "notebook")
    lifecycle.finish_run(lifecycle.start_run(nb))
    out = _invoke("transforms").output
    assert "2 most recent transforms" in out
    assert nb.uid in out and prep.uid in out and out.index(nb.uid) < out.index(prep.uid)
    assert "v2 T1" in out and "notebook" in out
    every = _invoke("transforms", "--all-versions").output
    assert "3 most recent transforms" in every
    only = _invoke("transforms", "--kind", "notebook").output
    assert nb.uid in only and prep.uid not in only
    assert prep.uid in _invoke("transforms", "--key", "pipelines/").output


def test_artifacts_lists_and_delete_removes_one(instance, tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_text("one")
    v1 = ln.Artifact(first, key="raw/a.txt").save()
    first.write_text("two")
    v2 = ln.Artifact(first, key="raw/a.txt").save()
    other = tmp_path / "b.txt"
    other.write_text("b")
    b = ln.Artifact(other, key="other/b.txt").save()

    out = _invoke("artifacts").output
    assert v2.uid in out and b.uid in out and v1.uid not in out
    assert v1.uid in _invoke("artifacts", "--all-versions").output
    assert b.uid not in _invoke("artifacts", "--key", "raw/").output

    result = _invoke("delete", "--key", "raw/a.txt")
    assert result.exit_code == 0 and f"deleted artifact {v2.uid}" in result.output
    assert ln.Artifact.get(key="raw/a.txt").uid == v1.uid  # the remaining version is the latest
    assert ln.Artifact.get(key="raw/a.txt").is_latest
    assert _invoke("delete", b.uid[:10]).exit_code == 0
    assert not ln.Artifact.filter(key="other/b.txt").exists()
    missing = CliRunner().invoke(build(), ["delete", b.uid])
    assert missing.exit_code != 0 and "no artifact" in str(missing.exception or missing.output)


def test_info_shows_location_and_dev_dir(instance, tmp_path: Path) -> None:
    out = _invoke("info").output
    assert "dev-dir:   (not set" in out
    assert "storage:" in out and str(instance.storage_root) in out
    if instance.root is not None:
        assert f"location:  {instance.root}" in out
    ln.settings.dev_dir = str(tmp_path)
    assert f"dev-dir:   {tmp_path.resolve()}" in _invoke("info").output
