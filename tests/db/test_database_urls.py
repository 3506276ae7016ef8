"""Credentials in database URLs never shown (issue 10, item 11), against a real PostgreSQL.

Every form a libpq URL can carry a secret in: the userinfo password, the
``password`` and ``sslpassword`` query parameters, and tokens or keys in
the query. Checked where a URL is shown: ``lineage info``, the instance's
and database's repr, `DatabaseUnreachable` and log records.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import lineage as ln
from lineage.errors import DatabaseUnreachable

SECRETS = ("S3CRET-userinfo", "S3CRET-query", "S3CRET-ssl")


def _with_secrets(url: str) -> str:
    """`url` (trust authentication: passwords are accepted and ignored) with every secret form."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    netloc = f"{parts.username or 'postgres'}:{SECRETS[0]}@{parts.hostname}:{parts.port or 5432}"
    query = f"password={SECRETS[1]}&sslpassword={SECRETS[2]}&application_name=lineage-test"
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_clean(text: str) -> None:
    for secret in (*SECRETS, "S3CRET"):
        assert secret not in text, text


def test_info_and_reprs_show_no_credential(fresh_postgres_db: str, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    url = _with_secrets(fresh_postgres_db)
    with caplog.at_level(logging.DEBUG):
        instance = ln.init(storage=tmp_path / "storage", db=url)
    _assert_clean(repr(instance) + instance.slug + repr(instance.db) + instance.db.safe_url)
    assert "postgres:***@" in instance.slug and "password=***&sslpassword=***" in instance.slug
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env.update(LINEAGE_INSTANCE=url, LINEAGE_CONFIG_DIR=str(tmp_path / "cfg"))
    info = subprocess.run([sys.executable, "-m", "lineage", "info"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert info.returncode == 0, info.stderr
    assert "PostgreSQL postgresql://postgres:***@" in info.stdout
    _assert_clean(info.stdout + info.stderr + caplog.text)


@pytest.mark.parametrize("form", ["closed port", "unknown database", "token in the query"])
def test_database_unreachable_shows_no_credential(postgres_server: str, form: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    url = _with_secrets(postgres_server)
    if form == "closed port":
        url = url.replace(f":{urlsplit(url).port}/", f":{_closed_port()}/")
    elif form == "unknown database":
        url = url.replace(urlsplit(url).path + "?", "/no_such_db_S3CRET-path?")
    else:  # libpq refuses the unknown parameter and quotes the query in its error
        url += "&token=S3CRET-token&api_key=S3CRET-key"
    with caplog.at_level(logging.DEBUG), pytest.raises(DatabaseUnreachable) as info:
        ln.connect(url)
    message = str(info.value)
    for secret in (*SECRETS, "S3CRET-token", "S3CRET-key"):
        assert secret not in message and secret not in caplog.text, message
    assert "cannot reach the database postgresql://postgres:***@127.0.0.1" in message
    assert info.value.__suppress_context__  # the driver's own exception is not shown
