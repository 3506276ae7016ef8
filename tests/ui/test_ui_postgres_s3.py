"""The UI of a team instance: PostgreSQL metadata, objects on S3 (a moto server on loopback).

A real ``lineage ui`` process serves the instance; the API and a headless
Chromium read runs and artifacts whose bytes live only in the bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import INTERNAL, Browser, available
from ui_helpers import UIServer, here, start_ui

import lineage as ln
import lineage.instance as instance_module
from lineage import lifecycle
from lineage.testing import moto_server, use_s3_endpoint

CSV = "sample,value\ns1,1.5\ns2,2.5\n"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def team(instance: Any, moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> Iterator[tuple[UIServer, dict[str, Any]]]:
    """A PostgreSQL instance storing on a new moto bucket, one run with a CSV; served."""
    import boto3

    use_s3_endpoint(monkeypatch, moto)
    bucket = f"ui-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto)
    client.create_bucket(Bucket=bucket)
    ln.settings.storage = f"s3://{bucket}/prefix"

    transform = lifecycle.get_or_create_transform("team/prepare.py", "print('prepare')\n")
    run = lifecycle.start_run(transform, params={"rows": 2}, environment=False)
    activation = lifecycle.activate(run)
    try:
        (tmp_path / "table.csv").write_text(CSV)
        table = ln.Artifact(tmp_path / "table.csv", key="team/table.csv").save()
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(run, "completed")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith("prefix/")  # the only copy is in the bucket
    (tmp_path / "table.csv").unlink()
    ids = {"run": run.uid, "table": table.uid, "bucket": bucket, "object": keys[0],
           "client": client}
    instance_module.close()
    server = start_ui(request.getfixturevalue("_postgres_instance_db"))
    yield server, ids
    server.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_api_reads_runs_and_s3_objects(team: tuple[UIServer, dict[str, Any]]) -> None:
    server, ids = team
    page = server.api("/api/runs")
    assert [r["uid"] for r in page["runs"]] == [ids["run"]] and page["total"] == 1
    run = server.api(f"/api/runs/{ids['run']}")
    assert [a["uid"] for a in run["outputs"]["items"]] == [ids["table"]]
    artifact = server.api(f"/api/artifacts/{ids['table']}")
    assert artifact["key"] == "team/table.csv"
    preview = server.api(f"/api/artifacts/{ids['table']}/preview")
    assert preview["kind"] == "table" and preview["rows"] == [["s1", "1.5"], ["s2", "2.5"]]
    download = server.get(f"/api/artifacts/{ids['table']}/download")
    assert download.status == 200 and download.body == CSV.encode()
    ids["client"].delete_object(Bucket=ids["bucket"], Key=ids["object"])
    gone = server.get(f"/api/artifacts/{ids['table']}/download")
    assert gone.status != 200 and gone.body != CSV.encode()  # it was served from the bucket


@pytest.mark.skipif(not available(), reason="chromium and chromium-driver missing")
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_browser_opens_a_run_and_its_artifact_on_s3(
        team: tuple[UIServer, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> None:
    server, ids = team
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"), here() / "screenshots")
    try:
        browser.open(server.url + "/runs")
        browser.css(f"tr[data-uid='{ids['run']}'] a.uid").click()
        browser.wait(lambda: browser.driver.current_url.endswith(f"/runs/{ids['run']}"),
                     what="the run page")
        assert "team/prepare.py" in browser.css("main").text
        browser.open(server.url + f"/artifacts/{ids['table']}")
        assert "team/table.csv" in browser.css("h1").text
        assert "s2" in browser.css("#preview").text and "2.5" in browser.css("#preview").text
        href = browser.css("#download").get_attribute("href")
        body = browser.driver.execute_async_script(
            "const done = arguments[1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            href)
        assert body == CSV
        browser.shot("team-artifact")
        browser.collect()
        outside = [u for u in browser.requests
                   if not u.startswith(server.url) and not u.startswith(INTERNAL)]
        assert outside == []  # the browser never talks to S3 or anything else
    finally:
        browser.quit()
