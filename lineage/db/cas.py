"""Field-level optimistic concurrency: compare-and-swap on changed fields.

``UPDATE t SET f = :new WHERE id = :id AND f IS NOT DISTINCT FROM :loaded``
for each changed field. When another writer got there first, the row is
re-read under a lock: fields changed by both writers conflict (unless both
wrote the same value, or, for JSON fields, they changed disjoint key paths,
which are merged); otherwise the change is applied on top of theirs.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from lineage.db import provider
from lineage.db.dialect import dumps, utcnow
from lineage.db.jsonmerge import MergeConflict, merge_json
from lineage.errors import ConflictError, DoesNotExist, ValidationError

if TYPE_CHECKING:
    from lineage.db.database import Connection, Database
    from lineage.db.record import Record


def update_changed(db: Database, record: Record, *, system: bool = False) -> None:
    """Write `record`'s changed fields; raise `ConflictError` on a real conflict.

    Args:
        db: The database.
        record: A saved record.
        system: Allow changed system fields (lineage's own corrections only;
            `Record.save` never passes it).

    Raises:
        ConflictError: Another writer changed one of the same fields first.
        ReadOnlyFieldError: A system field changed and `system` is false.
    """
    changes = record.changed_fields()
    if not changes:
        return
    record.check_changes(changes, system=system)
    merged: dict[str, Any] = {}

    def work(conn: Connection) -> None:
        merged.clear()
        row = _compare_and_swap(conn, record, changes)
        if row is not None:
            _record_history(conn, record, changes)
            merged.update(row)
            return
        current = _locked_row(conn, record)
        final = _resolve(record, changes, current)
        _write(conn, record, final)
        _record_history(conn, record, final, current)
        merged.update(current)
        merged.update(final)

    try:
        db.write(work)
    except Exception as exc:
        from lineage.db.database import is_unique_violation

        if not is_unique_violation(exc):
            raise
        raise unique_conflict(db, record, changes) from None
    record._assign(**merged)
    record.mark_saved(db.dialect)


def _null_safe_eq(conn: Connection, column: str, kind: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"{column} IS ?"
    cast = "CAST(? AS jsonb)" if kind == "json" else "?"
    return f"{column} IS NOT DISTINCT FROM {cast}"


def _compare_and_swap(conn: Connection, record: Record, changes: dict[str, Any]) -> dict[str, Any] | None:
    """The updated row as field values, or None when another writer got there first."""
    sets, params = [], []
    for name, value in changes.items():
        sets.append(f"{name} = ?")
        params.append(conn.dialect.encode(record.fields[name].kind, value))
    params.append(record.id)
    checks = []
    for name in changes:
        kind = record.fields[name].kind
        checks.append(_null_safe_eq(conn, name, kind))
        raw = record._loaded_raw.get(name)
        if kind == "json" and raw is not None and not isinstance(raw, str):
            raw = dumps(raw)
        params.append(raw)
    returning = ", ".join(record.columns())
    sql = (f"UPDATE {record.__tablename__} SET {', '.join(sets)} "
           f"WHERE id = ? AND {' AND '.join(checks)} RETURNING {returning}")
    row = conn.execute(sql, params).fetchone()
    if row is None:
        return None
    fresh = type(record).from_row(row, conn.dialect)
    return {name: getattr(fresh, name) for name in record.fields}


def _locked_row(conn: Connection, record: Record) -> dict[str, Any]:
    lock = " FOR UPDATE" if conn.dialect.name != "sqlite" else ""
    row = conn.fetchone(f"{record.select_sql()} WHERE id = ?{lock}", [record.id])
    if row is None:
        raise DoesNotExist(
            f"{type(record).__name__} {record.uid} was deleted by another writer; "
            "nothing to save into."
        )
    fresh = type(record).from_row(row, conn.dialect)
    return {name: getattr(fresh, name) for name in record.fields}


def _resolve(record: Record, changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    final: dict[str, Any] = {}
    conflicts: list[str] = []
    for name, mine in changes.items():
        base = record._loaded.get(name)
        theirs = current[name]
        if theirs == base or theirs == mine:
            final[name] = mine
        elif record.fields[name].kind == "json":
            try:
                final[name] = merge_json(base, mine, theirs)
            except MergeConflict as exc:
                conflicts.append(f"{name}.{exc.path}" if exc.path else name)
        else:
            conflicts.append(name)
    if conflicts:
        raise ConflictError(type(record).__name__, record.uid, conflicts)
    return final


def _write(conn: Connection, record: Record, final: dict[str, Any]) -> None:
    sets = ", ".join(f"{name} = ?" for name in final)
    params = [conn.dialect.encode(record.fields[n].kind, v) for n, v in final.items()]
    conn.execute(f"UPDATE {record.__tablename__} SET {sets} WHERE id = ?", [*params, record.id])


def _record_history(conn: Connection, record: Record, changes: dict[str, Any],
                    before: dict[str, Any] | None = None) -> None:
    """Log one update: the new values and what they replaced (`before`, else the loaded values)."""
    before = record._loaded if before is None else before
    space_id = changes.get("space_id", getattr(record, "space_id", None))
    log_change(conn, type(record).__name__, record.id, record.uid, changes,
               {name: before.get(name) for name in changes}, space_id=space_id)


def log_change(conn: Connection, registry: str, record_id: int, record_uid: str,
               new: dict[str, Any], previous: dict[str, Any], space_id: int | None = None) -> None:
    """Insert one `RecordChange` row (inside the caller's transaction).

    Args:
        registry: Registry name (``"Run"``).
        new: The changed fields' new values.
        previous: Their values before the change.
        space_id: The changed record's space (its new one when it moved), so
            the change is visible where the record is; None: the space ``all``.
    """
    d = conn.dialect
    services = provider.get()
    conn.execute(
        "INSERT INTO record_change (registry, record_id, record_uid, fields, previous, "
        "changed_at, changed_by_id, run_id, space_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [registry, record_id, record_uid,
         d.encode("json", {k: _jsonable(v) for k, v in new.items()}),
         d.encode("json", {k: _jsonable(v) for k, v in previous.items()}),
         d.encode("datetime", utcnow()), services.user_id(), services.run_id(),
         1 if space_id is None else space_id],
    )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return copy.deepcopy(value)


def unique_conflict(db: Database, record: Record, changes: dict[str, Any]) -> ValidationError:
    """The clear error for changed fields that another record holds under a unique rule.

    Names the fields, their values and the record that holds them (for
    ``Artifact.key``: the latest version of that key), found after the
    failed transaction was rolled back.
    """
    from lineage.db.fields import Index

    table = record.__tablename__
    rules = [Index(f"{table}_{name}_key", (name,), unique=True)
             for name, spec in record.fields.items() if spec.unique]
    rules += [index for index in record.indexes if index.unique]
    dialect = db.dialect
    for rule in rules:
        if not set(rule.columns) & set(changes):
            continue
        values = [getattr(record, c) for c in rule.columns]
        where = " AND ".join(f"{c} = ?" for c in rule.columns)
        params = [dialect.encode(record.fields[c].kind, v) for c, v in zip(rule.columns, values)]
        if rule.where:
            where += f" AND ({rule.where})"
        found = db.query(f"SELECT uid FROM {table} WHERE {where} AND id <> ?", [*params, record.id])
        if not found:
            continue
        shown = ", ".join(f"{c}={v!r}" for c, v in zip(rule.columns, values))
        holder = f"{type(record).__name__} {found[0][0]}"
        if rule.where:
            holder += f" (unique among rows where {rule.where})"
        hint = rule.hint or "Choose another value."
        return ValidationError(
            f"cannot save {type(record).__name__} {record.uid}: {shown} is held by {holder}. {hint}"
        )
    names = ", ".join(sorted(changes))
    return ValidationError(
        f"cannot save {type(record).__name__} {record.uid}: the new value of {names} is already "
        "taken by another record. Choose another value."
    )
