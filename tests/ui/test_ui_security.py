"""Who may reach `lineage ui`: loopback only without a token; with one, nobody without it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from ui_helpers import start_ui

from lineage.errors import ValidationError
from lineage.ui.security import check_bind, is_loopback

TOKEN = "s3cret-Token_42"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.10", False),
    ("10.0.0.1", False), ("myhost.example", False),
])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_non_loopback_needs_a_token():
    with pytest.raises(ValidationError, match="refusing to serve on 0.0.0.0.*--token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", TOKEN)  # allowed once a token is set
    check_bind("127.0.0.1", None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_cli_refuses_a_public_host_without_token(ui_data, tmp_path, host):
    result = subprocess.run(
        [sys.executable, "-m", "lineage", "ui", "--host", host, "--port", "0",
         "--instance", ui_data[0]], capture_output=True, text=True, timeout=60,
        env={"PATH": "", "LINEAGE_CONFIG_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"refusing to serve on {host}" in result.stderr and "--token" in result.stderr
    assert "lineage ui: serving" not in result.stdout


def test_cli_without_instance_says_how_to_make_one(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lineage", "ui", "--port", "0"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PATH": "", "LINEAGE_CONFIG_DIR": str(tmp_path / "cfg")})
    assert result.returncode == 1 and "--instance" in result.stderr
    assert not (tmp_path / ".lineage").exists(), "the UI creates no instance"


@pytest.fixture(scope="module")
def token_server(ui_data, tmp_path_factory) -> Any:
    running = start_ui(ui_data[0], "--token", TOKEN,
                       env={"LINEAGE_CONFIG_DIR": str(tmp_path_factory.mktemp("c"))})
    yield running
    running.stop()


@pytest.mark.parametrize("path", ["/runs", "/api/runs", "/api/openapi.json", "/static/style.css"])
def test_token_is_required_everywhere(token_server, path):
    assert token_server.get(path).status == 401
    assert token_server.get(path, {"Authorization": "Bearer wrong"}).status == 401
    assert token_server.get(path, {"Authorization": f"Bearer {TOKEN}"}).status == 200


def test_token_in_the_url_sets_a_cookie_and_drops_it_from_the_url(token_server):
    reply = token_server.get(f"/runs?status=errored&token={TOKEN}")
    assert reply.status == 303 and reply.headers["location"] == "/runs?status=errored"
    cookie = reply.headers["set-cookie"].split(";", 1)[0]
    assert "HttpOnly" in reply.headers["set-cookie"]
    assert token_server.get("/runs?status=errored", {"Cookie": cookie}).status == 200
    assert token_server.get("/runs", {"Cookie": "lineage_ui_token=nope"}).status == 401


def test_loopback_server_refuses_foreign_host_headers(server):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 gets nothing."""
    assert server.get("/api/runs", {"Host": "evil.example:8000"}).status == 403
    assert server.get("/api/runs", {"Host": "localhost:1234"}).status == 200


def test_only_reads_are_allowed(server):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = server.get("/api/runs", method=method)
        assert reply.status == 405 and reply.headers["allow"] == "GET, HEAD"
