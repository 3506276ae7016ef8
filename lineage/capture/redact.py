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

import functools
import re
from typing import Any, NamedTuple
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
# Schemes whose user-only userinfo (``ssh://git@host``, ``postgresql://etl@db``)
# is a login name, not a token (compared without a ``+driver`` suffix).
_LOGIN_SCHEMES = frozenset({
    "ssh", "git", "sftp", "scp", "ftp", "ftps", "postgresql", "postgres", "mysql", "mariadb",
    "mssql", "oracle", "redshift", "snowflake", "mongodb", "redis", "rediss", "amqp", "amqps",
    "ldap", "ldaps", "smb", "sqlite",
})
# Query parameter names that carry credentials in URLs although they are too
# generic to flag everywhere (``?key=`` of API keys, ``&sig=`` of signed URLs);
# a name ending in the word ``signature`` or ``sig`` counts too.
_QUERY_SECRETS = frozenset({"key", "sig", "signature", "pass", "pw", "jwt", "code"})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_URL_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)$", re.DOTALL)
_ARG_NAME = re.compile(r"^-{0,2}[+~]?[A-Za-z_][\w.\-]*$")
_ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]*)(?P<q>['"]?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<scheme>(?:Bearer|Basic|Token)\s+)?"""
    r"""(?P<value>'[^']*'|"[^"]*"|[^\s'",;&)}\]]+)"""
)

#: ``--password hunter2`` / ``-token abc`` inside free text (a shell command line).
_OPTION_VALUE = re.compile(
    r"""(?P<lead>(?:^|(?<=\s))-{1,2}(?P<name>[A-Za-z][\w.\-]*))(?P<sep>\s+)"""
    r"""(?P<value>'[^']*'|"[^"]*"|[^\s'"-][^\s'";&|)]*)"""
)
_SPACE_DASH = re.compile(r"\s-")


def _may_hold_option(text: str) -> bool:
    """A cheap necessary condition for `_OPTION_VALUE` to match `text`.

    The option regex needs a ``-`` at the start or after whitespace, and
    whitespace before the value: hyphenated words, dates, UUIDs and paths
    (no whitespace at all) skip it. ``str.split`` and ``\\s`` agree on what
    whitespace is (Unicode's), so nothing the regex would redact is skipped.
    """
    if " -" in text:
        return True
    if len(text.split(None, 1)) < 2:  # no whitespace
        return False
    return text.startswith("-") or _SPACE_DASH.search(text) is not None


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Tell whether a parameter, option or variable name looks like a credential.

    Args:
        name: For example ``"--api-key"``, ``"AWS_SECRET_ACCESS_KEY"``, ``"max_tokens"``.

    Returns:
        True if values under this name must be redacted (rule in the module docstring).
    """
    if type(name) is not str:
        return _is_secret_words(name)
    return _is_secret_str(name)


@functools.lru_cache(maxsize=4096)
def _is_secret_str(name: str) -> bool:
    """`is_secret_name` of a plain ``str``, remembered: the same parameter names come back
    with every run of a task."""
    return _is_secret_words(name)


def _is_secret_words(name: str) -> bool:
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


def _is_secret_parameter(name: str) -> bool:
    name = unquote(name)
    if is_secret_name(name) or name.lower() in _QUERY_SECRETS:
        return True
    words = _words(name)
    return bool(words) and words[-1] in ("sig", "signature")  # X-Amz-Signature


def _is_secret_pair(pair: str) -> bool:
    name, eq, _ = pair.partition("=")
    return bool(eq) and _is_secret_parameter(name)


def _redact_pairs(text: str, sep: str) -> str:
    parts = text.split(sep)
    for i, part in enumerate(parts):
        if _is_secret_pair(part):
            parts[i] = f"{part.partition('=')[0]}={REDACTED}"
    return sep.join(parts)


class _UrlParts(NamedTuple):
    scheme: str
    userinfo: str | None  # None without "@"
    host: str
    path: str
    query: str | None  # None without "?"
    fragment: str | None  # None without "#"

    @property
    def login_scheme(self) -> bool:
        return self.scheme.lower().split("+")[0] in _LOGIN_SCHEMES


def _split_url(url: str) -> _UrlParts | None:
    match = _URL_PARTS.match(url)
    if match is None:
        return None
    scheme, netloc, rest = match.groups()
    userinfo, at, host = netloc.rpartition("@")
    rest, hash_, fragment = rest.partition("#")
    path, qmark, query = rest.partition("?")
    return _UrlParts(scheme, userinfo if at else None, host, path, query if qmark else None,
                     fragment if hash_ else None)


def redact_url(url: str) -> str:
    """Redact every credential in a URL.

    * ``user:password@`` -> ``user:***@``;
    * a user-only userinfo (``https://ghp_xxx@github.com``, a token) ->
      ``***@``, except for schemes where it is a login name (ssh, git,
      databases and brokers: ``postgresql://etl@db``);
    * query and fragment parameters with a secret name (``?token=abc``,
      ``?password=``, ``&sslpassword=``, ``#access_token=``, and in URLs
      also ``key``, ``sig``, ``signature``, ``pass``, ``pw``, ``jwt``,
      ``code``) -> value ``***``.

    Strings that are not URLs are returned unchanged.

    Args:
        url: The URL.

    Returns:
        The URL with secrets replaced by `REDACTED`.
    """
    parts = _split_url(url)
    if parts is None:
        return url
    netloc = parts.host
    if parts.userinfo is not None:
        user, colon, _ = parts.userinfo.partition(":")
        if colon:
            userinfo = f"{user}:{REDACTED}"
        else:
            userinfo = user if parts.login_scheme else REDACTED
        netloc = f"{userinfo}@{netloc}"
    out = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query is not None:
        out += "?" + _redact_pairs(parts.query, "&")
    if parts.fragment is not None:
        fragment = parts.fragment
        out += "#" + (_redact_pairs(fragment, "&") if "=" in fragment else fragment)
    return out


def strip_credentials(url: str) -> str:
    """`url` without its credentials, for URLs that need none (a repository link).

    Unlike `redact_url`, which marks where a secret was, the userinfo is
    dropped (a login name of ssh-like and database schemes is kept) and so
    are query and fragment parameters with a secret name, so the result is
    still a working URL.
    """
    parts = _split_url(url)
    if parts is None:
        return url
    netloc = parts.host
    user = (parts.userinfo or "").partition(":")[0]
    if user and parts.login_scheme:
        netloc = f"{user}@{netloc}"
    out = f"{parts.scheme}://{netloc}{parts.path}"
    for mark, pairs in (("?", parts.query), ("#", parts.fragment)):
        if pairs is None:
            continue
        kept = [pair for pair in pairs.split("&") if pair and not _is_secret_pair(pair)]
        if kept:
            out += mark + "&".join(kept)
    return out


def url_secrets(url: str) -> list[str]:
    """The credential values in a URL (what `redact_url` hides), longest first.

    For messages of other programs that may quote them without their name
    (a driver's error text): replace each of them too.
    """
    parts = _split_url(url)
    if parts is None:
        return []
    found = []
    user, colon, password = (parts.userinfo or "").partition(":")
    if colon:
        found.append(password)
    elif user and not parts.login_scheme:
        found.append(user)
    for pairs in (parts.query, parts.fragment):
        found += [pair.partition("=")[2] for pair in (pairs or "").split("&")
                  if _is_secret_pair(pair)]
    values = {v for s in found if s for v in (s, unquote(s))}
    return sorted(values, key=len, reverse=True)


def redact_secrets(text: str, secrets: list[str]) -> str:
    """`redact_text`, plus each known secret value of 4 or more characters replaced.

    (Shorter values would mangle the text; they are left to `redact_text`.)
    """
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return redact_text(text)


def _redact_assignment(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[0] in "'\"" else ""
    scheme = match["scheme"] or ""
    return f"{match['name']}{match['q']}{match['sep']}{scheme}{quote}{REDACTED}{quote}"


def _redact_option_value(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[0] in "'\"" else ""
    return f"{match['lead']}{match['sep']}{quote}{REDACTED}{quote}"


def redact_text(text: str) -> str:
    """Redact URLs with credentials and ``secret=value`` pairs inside free text.

    Handles ``password=x``, ``'token': 'x'``, ``Authorization: Bearer x``,
    ``--password x`` (an option and its value in a command line) and URLs
    anywhere in the string (for example a repr or a DSN).

    Args:
        text: Any string.

    Returns:
        The string with secrets replaced by `REDACTED`.
    """
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m[0]), text)
    if "=" in text or ":" in text:
        text = _ASSIGNMENT.sub(_redact_assignment, text)
    if "-" in text and _may_hold_option(text):
        text = _OPTION_VALUE.sub(_redact_option_value, text)
    return text


def redact_argv(argv: list[str]) -> list[str]:
    """Redact secrets in command-line arguments; parser-agnostic.

    * ``--password=x``, ``--api-key=x``, ``-Dpassword=x`` -> value redacted.
    * ``--password x``, ``-password x`` (single dash, as Go and Java tools
      spell options) -> the next argument redacted, unless it starts with
      ``--`` (then the option had no value). One-letter options such as
      ``-p`` are too ambiguous and are left alone.
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
        if not eq and _is_option_name(arg) and is_secret_name(arg):
            redact_next = True
        out.append(redact_text(arg))
    return out


def _is_option_name(arg: str) -> bool:
    """``--name`` or ``-name`` (a word, not a one-letter flag like ``-p``), not a negative number."""
    if arg.startswith("--"):
        return True
    return arg.startswith("-") and len(arg) > 2 and arg[1].isalpha() and _ARG_NAME.match(arg) is not None


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
