"""Run records of engine runs, built without checking again what lineage made itself.

`engine_run` and `RunTemplate` check an engine's arguments here before
anything is written, and build the `Run` of a new attempt from a base of
fields checked once (`RunFields.checked_base`) and the attempt's own
values (`new_run`): ``Run(**values)`` would validate every field of every
run, each JSON field encoded once to check it and again to insert it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineage.errors import ValidationError
from lineage.lifecycle.runs import FINAL_STATUSES, OPEN_STATUSES

if TYPE_CHECKING:
    from lineage.models.run import Run


def check_call(source: Any, external_id: Any, attempt: Any, status: Any) -> None:
    """The arguments of `engine_run` that are checked before anything is written."""
    check_source(source)
    check_attempt(external_id, attempt, status)


#: Statuses `engine_run` accepts.
_STATUSES = OPEN_STATUSES + FINAL_STATUSES


def check_attempt(external_id: Any, attempt: Any, status: Any) -> None:
    """Refuse an empty engine id, an attempt below 1 or an unknown status."""
    if not isinstance(external_id, str) or not external_id:
        raise ValidationError(
            f"external_id must be the engine's id as a non-empty string, got {external_id!r}.")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValidationError(f"attempt must be an integer from 1 up, got {attempt!r}.")
    if status not in _STATUSES:
        raise ValidationError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}.")


def check_source(source: Any) -> None:
    """Refuse an engine name that is not a non-blank string."""
    if not isinstance(source, str) or not source.strip():
        raise ValidationError(f"external_source must name the engine, got {source!r}.")


#: Fields whose values `engine_run` makes itself, already JSON-safe (`capture_params`,
#: redacted argv) or ids of its own: not checked again.
_TRUSTED = frozenset({"params", "cli_args", "details", "transform_id", "environment_id",
                      "initiated_by_run_id", "pid", "created_by_id", "space_id", "attempt"})


def new_run(base: dict[str, Any], **values: Any) -> Run:
    """A `Run` of the fields `base` (from `RunFields.checked_base`) and `values`.

    ``Run(**values)`` without re-checking `_TRUSTED` fields (each JSON field would be
    encoded once to check it and again to insert it) nor those of `base`; the engine's
    own values (names, ids, status, error text) are checked as `Run` checks them.
    """
    from lineage.db.uids import random_base62
    from lineage.models.run import Run

    state = base.copy()  # one copy of the whole table, not an insert per field
    state.update(values, id=None, _loaded={}, _loaded_raw={})
    plan = RunFields.get()
    for name, make in plan.made:
        if name not in state:
            state[name] = make()
    plan.check(state, values)
    if not state.get("uid"):
        state["uid"] = random_base62(Run.uid_length)
    run = Run.__new__(Run)
    object.__setattr__(run, "__dict__", state)  # not `Record.__setattr__`: no field
    return run


class RunFields:
    """What `new_run` needs of `Run.fields`, worked out once.

    Attributes:
        initials: Fields with a fixed initial value, and that value.
        made: Fields whose initial value is made per record (``started_at``), and its maker.
        checked: Fields not in `_TRUSTED`: name, spec, label for errors, and the most
            characters of a plain text accepted without `Field.validate` (None: validated).
    """

    _plan: RunFields | None = None

    def __init__(self) -> None:
        from lineage.models.run import Run

        fields = Run.fields.items()
        self.initials = {name: spec.default for name, spec in fields if not callable(spec.default)}
        self.made = [(name, spec.default) for name, spec in fields if callable(spec.default)]
        self.checked = []
        for name, spec in fields:
            if name in _TRUSTED:
                continue
            plain = spec.kind in ("str", "text") and spec.normalize is None
            limit = (spec.length if spec.length is not None else float("inf")) if plain else None
            self.checked.append((name, spec, f"Run.{name}", limit))

    @classmethod
    def get(cls) -> RunFields:
        """The plan, made on first use."""
        if cls._plan is None:
            cls._plan = cls()
        return cls._plan

    def checked_base(self, **values: Any) -> dict[str, Any]:
        """Initial values with `values` over them, checked: the base of `new_run`.

        Fields made per record (``started_at``) are left out: `new_run` gets them.
        """
        base = {**self.initials, **values}
        self.check(base, values)
        return base

    def check(self, state: dict[str, Any], names: Any) -> None:
        """Check (and normalize) in `state` the fields named in `names` that are checked."""
        for name, spec, label, length in self.checked:
            if name not in names:
                continue
            value = state[name]
            if value is None or (length is not None and type(value) is str and value.isascii()
                                 and "\x00" not in value and len(value) <= length):
                continue  # empty, or plain ASCII text that fits: what `validate` accepts as it is
            state[name] = spec.validate(value, label)
