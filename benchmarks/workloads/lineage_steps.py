"""Overhead per step: a trivial function as a step inside a flow (_same_api.steps).

``P["durability"]``: ``ln.settings.durability`` for this run (default: the
instance's, ``"normal"``). The SQLite mode in force is reported.
"""

import _common as c
import _same_api

import lineage as ln

ln.connect(c.PARAMS["storage"])
if c.PARAMS.get("durability"):
    ln.settings.durability = c.PARAMS["durability"]
result = _same_api.steps(ln)


def sqlite_mode() -> str:
    from lineage.instance import current_instance

    db = current_instance().db
    journal, sync = db.read(lambda conn: (conn.scalar("PRAGMA journal_mode"),
                                          conn.scalar("PRAGMA synchronous")))
    return (c.describe_sqlite(journal, sync)
            + f" (ln.settings.durability = {ln.settings.durability!r})")


c.emit({**result, "sqlite_mode": sqlite_mode()})
