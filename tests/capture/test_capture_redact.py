"""Tests for lineage.capture.redact."""

from __future__ import annotations

import pytest

from lineage.capture.redact import (
    REDACTED,
    is_secret_name,
    redact_argv,
    redact_mapping,
    redact_text,
    redact_url,
)

SECRET_NAMES = [
    "password", "PASSWORD", "passwd", "pwd", "passphrase", "secret", "token", "api_key",
    "apikey", "api-key", "--api-key", "apiKey", "access_key", "secret_key", "private_key",
    "privateKey", "credential", "credentials", "auth", "authorization", "session_key",
    "AWS_SECRET_ACCESS_KEY", "github_token", "GITHUB_TOKEN", "HF_TOKEN", "OPENAI_API_KEY",
    "clientSecret", "DB_PASSWORD", "dbpassword", "authtoken", "access_token", "db.password",
    "-Dpassword",
]
HARMLESS_NAMES = [
    "max_tokens", "n_tokens", "num_tokens", "tokens", "tokenizer", "--tokenizer",
    "token_count", "min_password_length", "author", "key", "monkey", "keyboard", "lr",
    "learning_rate", "input_path", "", "--", "_",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_are_flagged(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", HARMLESS_NAMES)
def test_harmless_names_are_not_flagged(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:secret@host/x", "https://user:***@host/x"),
        ("https://ghp_xxx@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
        ("https://host/x?token=abc&page=2", "https://host/x?token=***&page=2"),
        ("https://host/x?api%5Fkey=abc", "https://host/x?api%5Fkey=***"),
        ("https://host/cb#access_token=abc&state=1", "https://host/cb#access_token=***&state=1"),
        (
            "postgresql+psycopg://u:p%40ss@db:5432/x?sslmode=require&password=q",
            "postgresql+psycopg://u:***@db:5432/x?sslmode=require&password=***",
        ),
        ("https://u:p@ss@host/x", "https://u:***@host/x"),
        # not secrets: left as they are
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://github.com/o/r?max_tokens=5#L10", "https://github.com/o/r?max_tokens=5#L10"),
        ("s3://bucket/key", "s3://bucket/key"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["a.py", "--password", "hunter2"], ["a.py", "--password", REDACTED]),
        (["a.py", "--password=hunter2"], ["a.py", f"--password={REDACTED}"]),
        (["a.py", "--api-key=abc", "--n", "3"], ["a.py", f"--api-key={REDACTED}", "--n", "3"]),
        (["a.py", "--github_token", "ghp_x"], ["a.py", "--github_token", REDACTED]),
        (["a.py", "token=abc"], ["a.py", f"token={REDACTED}"]),
        (["a.py", "+db.password=abc"], ["a.py", f"+db.password={REDACTED}"]),
        (["a.py", "-Dpassword=abc"], ["a.py", f"-Dpassword={REDACTED}"]),
        (["a.py", "--url=https://u:pw@h/x"], ["a.py", f"--url=https://u:{REDACTED}@h/x"]),
        (["a.py", "https://u:pw@h/?password=x&a=b"], ["a.py", "https://u:***@h/?password=***&a=b"]),
        (["a.py", "--remote", "https://ghp_x@h/o/r"], ["a.py", "--remote", "https://***@h/o/r"]),
        # an option without a value: the next long option is not swallowed
        (["a.py", "--token", "--verbose"], ["a.py", "--token", "--verbose"]),
        (["a.py", "--password"], ["a.py", "--password"]),
        # harmless: unchanged
        (["a.py", "--tokenizer", "bert"], ["a.py", "--tokenizer", "bert"]),
        (["a.py", "--max-tokens", "9", "n_tokens=5"], ["a.py", "--max-tokens", "9", "n_tokens=5"]),
        (["a.py", "-p", "8080"], ["a.py", "-p", "8080"]),
        (["a.py", "max_tokens=5", "tokenizer=bert"], ["a.py", "max_tokens=5", "tokenizer=bert"]),
        (["a.py", "--lr=0.1", "data.csv"], ["a.py", "--lr=0.1", "data.csv"]),
    ],
)
def test_redact_argv(argv: list[str], expected: list[str]) -> None:
    original = list(argv)
    assert redact_argv(argv) == expected
    assert argv == original  # input untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Config(password='hunter2', lr=0.1)", "Config(password='***', lr=0.1)"),
        ('{"token": "abc", "n": 1}', '{"token": "***", "n": 1}'),
        ("Authorization: Bearer xyz", "Authorization: Bearer ***"),
        ("host=db password=pw user=u", "host=db password=*** user=u"),
        ("see https://u:pw@h/x now", "see https://u:***@h/x now"),
        ("max_tokens=5 tokenizer=bert", "max_tokens=5 tokenizer=bert"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_mapping_is_recursive_and_copies() -> None:
    obj = {
        "db": {"password": "pw", "host": "h", "port": 5432},
        "runs": [{"token": "t1"}, {"api_key": 1234}],
        "url": "https://u:secret@h/x",
        "credentials": {"user": "u", "pass": "p"},
        "auth": None,
        "use_auth": True,
        "max_tokens": 5,
        "pair": ("https://tok@h/x", 1),
    }
    out = redact_mapping(obj)
    assert out == {
        "db": {"password": REDACTED, "host": "h", "port": 5432},
        "runs": [{"token": REDACTED}, {"api_key": REDACTED}],
        "url": "https://u:***@h/x",
        "credentials": REDACTED,
        "auth": None,
        "use_auth": True,
        "max_tokens": 5,
        "pair": ("https://***@h/x", 1),
    }
    assert obj["db"]["password"] == "pw"  # the input is not modified
    assert "secret" not in repr(out)


@pytest.mark.parametrize(
    ("url", "expected"),
    [  # every credential form of a URL (issue 10, item 11)
        ("postgresql://u@h/db?password=X", "postgresql://u@h/db?password=***"),
        ("postgresql://u@h/db?sslmode=require&sslpassword=X", "postgresql://u@h/db?sslmode=require&sslpassword=***"),
        ("postgresql+psycopg://etl@db/x", "postgresql+psycopg://etl@db/x"),  # a login name
        ("mysql://root@db/x", "mysql://root@db/x"),
        ("https://maps.example.com/api?key=AIzaX&q=1", "https://maps.example.com/api?key=***&q=1"),
        ("https://b.blob.example.net/c?sv=1&sig=abc%3D", "https://b.blob.example.net/c?sv=1&sig=***"),
        ("https://h/x?X-Amz-Credential=a&X-Amz-Security-Token=b&X-Amz-Signature=c",
         "https://h/x?X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=***"),
        ("https://h/x?client_secret=a&refresh_token=b", "https://h/x?client_secret=***&refresh_token=***"),
        ("https://h/x?", "https://h/x?"),
        ("https://h/x#frag", "https://h/x#frag"),
    ],
)
def test_redact_url_credential_forms(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_url_secrets_and_strip_credentials() -> None:
    from lineage.capture.redact import redact_secrets, strip_credentials, url_secrets

    url = "postgresql://u:p%40ss1@h/db?password=pw-two&sslpassword=pw-three&sslmode=require"
    assert set(url_secrets(url)) == {"p%40ss1", "p@ss1", "pw-two", "pw-three"}
    assert redact_secrets("failed for pw-two near p@ss1", url_secrets(url)) == "failed for *** near ***"
    assert strip_credentials(url) == "postgresql://u@h/db?sslmode=require"
    assert strip_credentials("https://x:ghp_1@github.com/o/r?token=t#L1") == "https://github.com/o/r#L1"
    assert strip_credentials("ssh://git@github.com/o/r") == "ssh://git@github.com/o/r"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [  # single-dash options as Go and Java tools spell them (issue 10, item 12)
        (["a", "-password", "x"], ["a", "-password", REDACTED]),
        (["a", "-token", "x", "-v"], ["a", "-token", REDACTED, "-v"]),
        (["a", "-api-key=x", "-n", "-1"], ["a", f"-api-key={REDACTED}", "-n", "-1"]),
        (["a", "-secret_key", "x"], ["a", "-secret_key", REDACTED]),
        (["a", "-p", "8080", "-t", "5"], ["a", "-p", "8080", "-t", "5"]),  # one-letter: ambiguous
        (["a", "-max-tokens", "9"], ["a", "-max-tokens", "9"]),
    ],
)
def test_redact_argv_single_dash(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mytool --password hunter2 --out x.txt", "mytool --password *** --out x.txt"),
        ("java -jar t.jar -token abc", "java -jar t.jar -token ***"),
        ('x --api-key "a b" y', 'x --api-key "***" y'),
        ("a --password --verbose", "a --password --verbose"),  # the option had no value
        ("bwa mem -t 4 ref.fa", "bwa mem -t 4 ref.fa"),
        ("sort --key 2 data.tsv", "sort --key 2 data.tsv"),
    ],
)
def test_redact_text_options_in_a_command_line(text: str, expected: str) -> None:
    assert redact_text(text) == expected


OPTION_TEXTS = [
    "mytool --password hunter2 --out x.txt", "java -jar t.jar -token abc", 'x --api-key "a b" y',
    "--password hunter2", "-token abc", "a\t--password x", "a\n-token x", "a\u00a0--password x",
    "a\u2003--token x", "a\x1c--password x", "a --password\u00a0x", "a -- --token x",
    "run-1 --secret s3cr3t", "x\r\n--password p",
]


@pytest.mark.parametrize("text", OPTION_TEXTS)
def test_option_pre_check_keeps_every_form_the_regex_redacts(text: str) -> None:
    """The pre-check never skips a text that holds an option with a secret value."""
    from lineage.capture.redact import _OPTION_VALUE, _may_hold_option

    assert _OPTION_VALUE.search(text) is not None
    assert _may_hold_option(text)
    assert REDACTED in redact_text(text)


@pytest.mark.parametrize(
    "text", ["2024-01-01", "my-run-name", "3f2a9c1e-7b4d-4e21-9a3b-0c8d7e6f5a41",
             "/data/raw/sample-001.csv", "resnet-50 baseline", "a-b c-d"])
def test_option_pre_check_skips_hyphenated_words(text: str) -> None:
    """Hyphens inside words (no ``-`` after whitespace) do not run the option regex."""
    from lineage.capture.redact import _OPTION_VALUE, _may_hold_option

    assert not _may_hold_option(text)
    assert _OPTION_VALUE.search(text) is None
    assert redact_text(text) == text


def test_option_pre_check_is_a_necessary_condition_on_random_text() -> None:
    """Wherever the option regex matches random text (every whitespace kind), the pre-check holds."""
    import random
    import sys

    from lineage.capture.redact import _OPTION_VALUE, _may_hold_option

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    alphabet = spaces + list("--ab=:'\"x") + ["pw", "password", "token"]
    rng = random.Random(18)
    matched = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        if _OPTION_VALUE.search(text) is not None:
            matched += 1
            assert _may_hold_option(text), repr(text)
    assert matched > 50  # the regex did match: the check was exercised
