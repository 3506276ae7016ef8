"""Key rules shared by every store, and the content-addressed layout."""

from __future__ import annotations

import pytest

from lineage.errors import InvalidKeyError, ValidationError
from lineage.storage.keys import object_key_for, validate_key

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("../x", "escapes"),
        ("a/../../b", "escapes"),
        ("/abs", "absolute"),
        ("", "empty"),
        ("   ", "empty"),
        ("a\\b", "backslash"),
        ("C:\\x", "backslash"),
        ("C:/x", "drive letter"),
        ("a/b/", "ends with '/'"),
        ("a\x00b", "control character"),
        ("a\nb", "control character"),
        (".", "names no file"),
        ("a/..", "names no file"),
        ("x" * 300, "longer than 255"),
        ("/".join(["abcdefgh"] * 200), "longer than 1024"),
    ],
)
def test_invalid_keys_raise_invalid_key_error(key: str, hint: str) -> None:
    with pytest.raises(InvalidKeyError, match=hint) as info:
        validate_key(key)
    assert isinstance(info.value, ValueError)
    assert repr(key)[:20] in str(info.value) or "..." in str(info.value)


def test_non_string_key() -> None:
    with pytest.raises(InvalidKeyError, match="must be a string"):
        validate_key(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "normal"),
    [
        ("raw/sample.fasta", "raw/sample.fasta"),
        ("a//b", "a/b"),
        ("./a/./b", "a/b"),
        ("a/../b", "b"),
        ("a/b/../c.txt", "a/c.txt"),
        ("ünïcode/データ.csv", "ünïcode/データ.csv"),
        ("with space/x y.txt", "with space/x y.txt"),
        (".hidden/..dots../x", ".hidden/..dots../x"),
    ],
)
def test_valid_keys_are_normalized(key: str, normal: str) -> None:
    assert validate_key(key) == normal


def test_object_key_layout() -> None:
    assert object_key_for(SHA, ".csv") == f"objects/9f/{SHA}.csv"
    assert object_key_for(SHA, ".tar.gz") == f"objects/9f/{SHA}.tar.gz"
    assert object_key_for(SHA) == f"objects/9f/{SHA}"
    assert validate_key(object_key_for(SHA, ".csv")) == object_key_for(SHA, ".csv")


@pytest.mark.parametrize("sha", ["", "abc", SHA.upper(), SHA + "0", "g" * 64])
def test_object_key_rejects_non_digests(sha: str) -> None:
    with pytest.raises(ValidationError, match="not a SHA-256"):
        object_key_for(sha, ".csv")


@pytest.mark.parametrize(
    "suffix", ["csv", "./x", ".a/b", ".a\\b", ". csv", ".a.b.c.d", "." + "x" * 40]
)
def test_object_key_rejects_bad_suffixes(suffix: str) -> None:
    with pytest.raises(ValidationError, match="not a file extension"):
        object_key_for(SHA, suffix)
