"""``ln.save([...])``: save many records at once.

Everything is validated first: a non-record element or an invalid record
saves nothing at all. Other records are then saved one by one, and
artifacts in three steps shared by all of them (one transaction inserting
every flagged row, the uploads in parallel, one final transaction), so a
thousand small files cost two transactions, not two thousand. If an upload
fails, the artifacts whose uploads completed stay saved and complete, the
others leave no trace, and `BulkSaveError` (a `RuntimeError`) lists the
saved ones with the original exception chained.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lineage.errors import ValidationError

if TYPE_CHECKING:
    from lineage.db.record import Record


def save(records: Iterable[Record]) -> list[Record]:
    """Save records; artifacts in batches that keep data and metadata in sync.

    Args:
        records: Records (artifacts, projects, labels, ...), in any mix.

    Returns:
        The records, saved (a re-saved artifact of existing content is the
        existing record, as with ``Artifact(...).save()``).

    Raises:
        TypeError: `records` is not a list of records (nothing saved).
        ValidationError: A record is invalid (nothing saved).
        BulkSaveError: Some artifacts failed; ``.saved`` lists the complete
            ones, ``__cause__`` is the original error.
    """
    items = _validate(records)
    from lineage.artifact import Artifact

    artifacts = [r for r in items if isinstance(r, Artifact) and r._source is not None]
    chosen = set(map(id, artifacts))
    for record in items:
        if id(record) not in chosen:
            record.save()
    if artifacts:
        from lineage.artifacts.save import save_artifacts

        save_artifacts(artifacts)
    return items


def _validate(records: Any) -> list[Record]:
    from lineage.db.record import Record

    if isinstance(records, (str, bytes, Record)) or not isinstance(records, Iterable):
        raise TypeError(
            f"ln.save() takes a list of records, got {type(records).__name__}. "
            "Save one record with record.save(), or pass [record]."
        )
    items: list[Record] = []
    seen: set[int] = set()
    for index, record in enumerate(records):
        if not isinstance(record, Record):
            raise TypeError(
                f"ln.save(): element {index} is a {type(record).__name__} ({record!r:.80}), not a "
                "record; nothing was saved. Wrap files with ln.Artifact(path, key=...)."
            )
        if id(record) in seen:
            continue
        seen.add(id(record))
        _check_record(record, index)
        items.append(record)
    return items


def _check_record(record: Record, index: int) -> None:
    """Raise ValidationError if `record` cannot be saved as it is."""
    from lineage.artifact import Artifact

    name = type(record).__name__
    where = f"ln.save(): element {index} ({name} {getattr(record, 'uid', '')})"
    if isinstance(record, Artifact):
        from lineage.artifacts.create import check_fields

        try:
            check_fields(record)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc} Nothing was saved.") from exc
        if record.id is None and record._source is not None and not record.hash:
            raise ValidationError(f"{where}: it has no content hash. Nothing was saved.")
    for field_name, spec in record.fields.items():
        if not spec.nullable and spec.default is None and getattr(record, field_name, None) is None:
            raise ValidationError(
                f"{where}: field {field_name!r} is required. Nothing was saved."
            )
