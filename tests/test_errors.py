"""The error tree: builtin mixins and readable messages."""

from __future__ import annotations

import pytest

from lineage import errors


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (errors.DoesNotExist, LookupError),
        (errors.MultipleResultsFound, LookupError),
        (errors.ValidationError, ValueError),
        (errors.InvalidKeyError, ValueError),
        (errors.SettingsError, ValueError),
        (errors.ParameterBindError, TypeError),
        (errors.NoActiveRun, RuntimeError),
        (errors.BulkSaveError, RuntimeError),
        (errors.DatabaseUnreachable, ConnectionError),
        (errors.StorageError, OSError),
    ],
)
def test_every_error_is_a_lineage_error_and_its_builtin(error, builtin):
    assert issubclass(error, errors.LineageError) and issubclass(error, builtin)


def test_bulk_save_error_message_stays_readable_for_many_records():
    class Record:
        def __init__(self, i: int) -> None:
            self.key, self.uid = f"files/{i}.txt", f"uid{i}"

    error = errors.BulkSaveError([Record(i) for i in range(1000)], [Record(1000)], OSError("disk full"))
    message = str(error)
    assert "OSError: disk full" in message
    assert "files/0.txt (uid0)" in message and "and 990 more" in message
    assert "files/999.txt" not in message
    assert len(error.saved) == 1000


def test_conflict_error_names_registry_uid_and_fields():
    error = errors.ConflictError("Run", "abc", ["params.a", "status"])
    assert "Run abc" in str(error) and "params.a, status" in str(error) and "refresh()" in str(error)
