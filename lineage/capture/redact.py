"""Redaction: secrets never reach the database.

Rule for secret *names* (`is_secret_name`): a name is split into lowercase
words at ``-``, ``_``, ``.``, spaces and camelCase boundaries
(``AWS_SECRET_ACCESS_KEY`` -> aws, secret, access, key). It is secret when

* a word contains ``password``, ``passwd``, ``passphrase``, ``secret``,
  ``credential``, ``apikey``, ``accesskey``, ``privatekey`` or
  ``sessionkey`` (so ``dbpassword`` and ``clientSecret`` count), or
* a word is exactly ``token``, ``pwd``, ``auth``, ``authorization`` or
  ``bearer``, or ends with ``token`` (``authtoken``), or
* two adjacent words form ``api key``, ``access key``, ``private key``,
  ``session key`` or ``auth key``,

unless the name describes a quantity or a kind rather than a value: its
first word is ``max``/``min``/``num``/``n`` or its last word is ``count``,
``len``, ``length``, ``limit``, ``size``, ``type`` and the like. So
``max_tokens``, ``n_tokens``, ``tokenizer``, ``token_count`` and
``min_password_length`` are kept, ``github_token`` and ``--api-key`` are not.
Over-redacting a harmless value is preferred to leaking a secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

REDACTED = "***"

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SECRET_SUBSTRINGS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "sessionkey",
)
_SECRET_WORDS = frozenset({"token", "pwd", "auth", "authorization", "bearer"})
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("session", "key"), ("auth", "key")}
)
_QUANTITY_FIRST = frozenset({"max", "min", "num", "n"})
_QUANTITY_LAST = frozenset(
    {"count", "counts", "len", "length", "limit", "limits", "size", "num", "max", "min",
     "type", "types", "dim", "dims"}
)
# Schemes whose user-only userinfo (``ssh://git@host``) is a login name, not a token.
_LOGIN_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git", "sftp", "scp"})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_URL_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)$", re.DOTALL)
_ARG_NAME = re.compile(r"^-{0,2}[+~]?[A-Za-z_][\w.\-]*$")
_ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]*)(?P<q>['"]?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<scheme>(?:Bearer|Basic|Token)\s+)?"""
    r"""(?P<value>'[^']*'|"[^"]*"|[^\s'",;&)}\]]+)"""
)


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Tell whether a parameter, option or variable name looks like a credential.

    Args:
        name: For example ``"--api-key"``, ``"AWS_SECRET_ACCESS_KEY"``, ``"max_tokens"``.

    Returns:
        True if values under this name must be redacted (rule in the module docstring).
    """
    words = _words(name)
    if not words:
        return False
    if words[0] in _QUANTITY_FIRST or words[-1] in _QUANTITY_LAST:
        return False
    for word in words:
        if word in _SECRET_WORDS or word.endswith("token"):
            return True
        if any(s in word for s in _SECRET_SUBSTRINGS):
            return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def _redact_pairs(text: str, sep: str) -> str:
    parts = text.split(sep)
    for i, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if eq and is_secret_name(unquote(name)):
            parts[i] = f"{name}={REDACTED}"
    return sep.join(parts)


def redact_url(url: str) -> str:
    """Redact credentials in a URL.

    The password of ``user:password@`` becomes ``***``; a user-only userinfo
    (``https://ghp_xxx@github.com``, a token) becomes ``***`` except for ssh-like
    schemes, where it is a login name; query and fragment parameters with a
    secret name (``?token=abc``) get the value ``***``. Strings that are not
    URLs are returned unchanged.

    Args:
        url: The URL.

    Returns:
        The URL with secrets replaced by `REDACTED`.
    """
    match = _URL_PARTS.match(url)
    if match is None:
        return url
    scheme, netloc, rest = match.groups()
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, _ = userinfo.partition(":")
        if colon:
            userinfo = f"{user}:{REDACTED}"
        elif scheme.lower() not in _LOGIN_SCHEMES:
            userinfo = REDACTED
        netloc = f"{userinfo}@{host}"
    rest, hash_, fragment = rest.partition("#")
    path, qmark, query = rest.partition("?")
    if query:
        query = _redact_pairs(query, "&")
    if fragment and "=" in fragment:
        fragment = _redact_pairs(fragment, "&")
    return f"{scheme}://{netloc}{path}{qmark}{query}{hash_}{fragment}"


def _redact_assignment(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[0] in "'\"" else ""
    scheme = match["scheme"] or ""
    return f"{match['name']}{match['q']}{match['sep']}{scheme}{quote}{REDACTED}{quote}"


def redact_text(text: str) -> str:
    """Redact URLs with credentials and ``secret=value`` pairs inside free text.

    Handles ``password=x``, ``'token': 'x'``, ``Authorization: Bearer x`` and
    URLs anywhere in the string (for example a repr or a DSN).

    Args:
        text: Any string.

    Returns:
        The string with secrets replaced by `REDACTED`.
    """
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m[0]), text)
    if "=" in text or ":" in text:
        text = _ASSIGNMENT.sub(_redact_assignment, text)
    return text


def redact_argv(argv: list[str]) -> list[str]:
    """Redact secrets in command-line arguments; parser-agnostic.

    * ``--password=x``, ``--api-key=x``, ``-Dpassword=x`` -> value redacted.
    * ``--password x`` -> the next argument redacted, unless it starts with
      ``--`` (then the option had no value). Short options such as ``-p`` are
      too ambiguous and are left alone.
    * ``token=abc`` and ``db.password=abc`` (positional, Hydra style) -> value redacted.
    * URLs with credentials anywhere in any argument -> `redact_url`.

    Args:
        argv: Arguments, ``argv[0]`` included.

    Returns:
        A new list of the same length.
    """
    out: list[str] = []
    redact_next = False
    for arg in argv:
        if redact_next:
            redact_next = False
            if not arg.startswith("--"):
                out.append(REDACTED)
                continue
        name, eq, _ = arg.partition("=")
        if eq and _ARG_NAME.match(name) and is_secret_name(name):
            out.append(f"{name}={REDACTED}")
            continue
        if arg.startswith("--") and not eq and is_secret_name(arg):
            redact_next = True
        out.append(redact_text(arg))
    return out


def redact_mapping(obj: Any) -> Any:
    """Recursively redact a JSON-like object.

    Values under a secret key (`is_secret_name`) become `REDACTED`, whatever
    their type, except None and booleans, which reveal nothing. Strings
    anywhere go through `redact_text`.

    Args:
        obj: Dicts, lists, tuples, strings and scalars.

    Returns:
        A new object; the input is not modified.
    """
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if (
                isinstance(key, str)
                and is_secret_name(key)
                and value is not None
                and not isinstance(value, bool)
            ):
                out[key] = REDACTED
            else:
                out[key] = redact_mapping(value)
        return out
    if isinstance(obj, tuple):
        return tuple(redact_mapping(v) for v in obj)
    if isinstance(obj, list):
        return [redact_mapping(v) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj)
    return obj
