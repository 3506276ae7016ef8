"""Overhead per step: a trivial function as a step inside a flow (_same_api.steps).

The SQLite mode of LaminDB's (Django's) connection is reported."""

import _common as c
import _same_api

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
result = _same_api.steps(ln)


def sqlite_mode() -> str:
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            sync = cursor.execute("PRAGMA synchronous").fetchone()[0]
        return c.describe_sqlite(journal, sync)
    except Exception as exc:  # noqa: BLE001 - informative only
        return f"unknown ({type(exc).__name__}: {exc})"[:200]


c.emit({**result, "sqlite_mode": sqlite_mode()})
