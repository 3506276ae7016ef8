"""lineage.testing: a test gets an instance of its own and leaves the environment as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import lineage as ln
from lineage import testing
from lineage.testing import temporary_instance, temporary_postgres_database


def test_temporary_instance_is_isolated_and_restores_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEAGE_INSTANCE", "/somewhere/else")
    with temporary_instance(tmp_path) as instance:
        assert os.environ["LINEAGE_INSTANCE"] == instance.slug
        assert str(tmp_path) in os.environ["LINEAGE_CONFIG_DIR"]
        ln.track(key="isolated.py")
        ln.finish()
        assert ln.Run.filter().count() == 1
    assert os.environ["LINEAGE_INSTANCE"] == "/somewhere/else"
    with temporary_instance(tmp_path / "second"):
        assert ln.Run.filter().count() == 0


def test_temporary_postgres_database_is_dropped_afterwards(postgres_server, tmp_path):
    import psycopg

    with temporary_postgres_database(postgres_server) as url:
        with temporary_instance(tmp_path, db=url):
            ln.Transform(key="pg.py", hash="h").save()
            assert ln.Transform.filter().count() == 1
        name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.replace("postgresql+psycopg://", "postgresql://")) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchall()
    assert left == []


def test_importing_lineage_testing_imports_no_test_dependency():
    code = "import sys, lineage.testing; print(sorted({'moto', 's3fs', 'boto3'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_moto_server_serves_s3_in_the_block_and_is_stopped_after(tmp_path, monkeypatch):
    import boto3

    with testing.moto_server(tmp_path) as url:
        testing.use_s3_endpoint(monkeypatch, url, AWS_MAX_ATTEMPTS="1")
        assert os.environ["AWS_ENDPOINT_URL"] == url and os.environ["AWS_MAX_ATTEMPTS"] == "1"
        boto3.client("s3").create_bucket(Bucket="testing-bucket")
        assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["testing-bucket"]
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError:
        pass
    else:
        raise AssertionError(f"moto still answers at {url}")
    assert [p.name for p in tmp_path.iterdir()] == [f"moto-{url.rsplit(':', 1)[1]}.log"]


def test_doc_snippets_is_the_checkout_runner_loaded_once():
    runner = testing.doc_snippets()
    assert runner is testing.doc_snippets() is sys.modules["doc_snippets"]
    assert Path(runner.__file__) == Path(__file__).parent / "docs" / "doc_snippets.py"
