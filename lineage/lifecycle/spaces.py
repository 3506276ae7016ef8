"""Spaces: where new records go, moving records, members and their roles.

Where a new record goes, first match wins: the space given to the call
(``track(space=...)``, ``start_run(space=...)``); the space of the run it is
created in (artifacts, projects, labels, features, child runs); the setting
``ln.settings.space`` (or ``LINEAGE_SPACE``); else ``all``. Transforms (the
code) go to ``all`` unless moved, so one script tracked in several spaces is
one transform.

On PostgreSQL the database enforces spaces (migration 0004): this module
only names spaces, writes memberships and grants, and turns what PostgreSQL
refuses into clear errors. On SQLite, spaces are labels (nothing enforced).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from lineage.errors import DoesNotExist, PermissionDenied, ValidationError

if TYPE_CHECKING:
    from lineage.db.record import Record
    from lineage.instance import Instance
    from lineage.models.space import Space, SpaceMember


def _instance() -> Instance:
    from lineage.instance import current_instance

    return current_instance()


def enforced(instance: Instance | None = None) -> bool:
    """Whether the database enforces spaces (PostgreSQL) or they are labels (SQLite)."""
    return not (instance or _instance()).db.is_sqlite


def enforcement_summary(instance: Instance | None = None) -> str:
    """One line for ``lineage info``: the spaces, and whether the database enforces them."""
    instance = instance or _instance()
    names = [r[0] for r in instance.db.query("SELECT name FROM space ORDER BY id")]
    listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    if instance.db.is_sqlite:
        return (f"{listed} (labels only: SQLite has one user and no roles, so nothing is "
                "enforced; use a PostgreSQL instance for access control)")
    from lineage.db import access

    role = instance.db.read(access.current_role)
    exempt = instance.db.read(access.bypasses_spaces)
    who = f"role {role} owns the instance and sees every space" if exempt else \
        f"role {role} sees these"
    return f"{listed} (enforced by PostgreSQL row-level security; {who})"


def resolve_space(space: Any) -> int:
    """The id of `space`: a `Space`, its name or its id.

    Raises:
        DoesNotExist: No space of that name is visible to this role (it does
            not exist, or this role is not a member).
        ValidationError: Not a space, a name or an id.
    """
    from lineage.models.space import Space

    if isinstance(space, Space):
        if space.id is None:
            space.save()
        return space.id
    if isinstance(space, bool) or not isinstance(space, (str, int)):
        raise ValidationError(f"space must be an ln.Space, a space name or an id, got {space!r}.")
    if isinstance(space, int):
        return space
    instance = _instance()
    cache = _names(instance)
    if space not in cache:
        found = Space.filter(name=space).first()
        if found is None:
            raise DoesNotExist(_missing(space, instance))
        cache[space] = found.id
    return cache[space]


def default_space_id() -> int:
    """Where a record created now goes: the current run's space, the setting, else ``all``."""
    from lineage.context import current_run
    from lineage.models.space import ALL_SPACE_ID

    run = current_run()
    if run is not None and getattr(run, "space_id", None) is not None:
        return run.space_id
    try:
        instance = _instance()
    except Exception:  # noqa: BLE001 - no instance yet: the record is not saved anywhere yet
        return ALL_SPACE_ID
    name = getattr(instance.settings, "space", None) if instance.settings is not None else None
    return resolve_space(name) if name else ALL_SPACE_ID


def run_space_id(space: Any, parent_run: Any, parent_id: int | None) -> int:
    """The space of a new run: `space` if given, else its parent's, else `default_space_id`."""
    if space is not None:
        return resolve_space(space)
    if parent_run is not None and getattr(parent_run, "space_id", None) is not None:
        return parent_run.space_id
    if parent_id is not None:  # a parent in another process
        rows = _instance().db.query("SELECT space_id FROM run WHERE id = ?", [parent_id])
        if rows:
            return rows[0][0]
    return default_space_id()


def move_to_space(record: Record, space: Any) -> Record:
    """Move a saved `record` into `space` (recorded as a `RecordChange`).

    Only the record moves: its links and the records of its run stay where
    they are. An artifact's object moves to the new space's storage prefix
    (copied, verified, committed, then the old one removed if no other
    record uses it; see `lineage.artifacts.move`). On PostgreSQL the
    database checks that this role may write the record's current space
    and the new one.

    Raises:
        PermissionDenied: This role may not write one of the two spaces.
        ValidationError: The record's registry has no space, or it is unsaved.
    """
    from lineage.db.cas import update_changed

    if "space_id" not in record.fields:
        raise ValidationError(f"{type(record).__name__} records have no space; nothing to move.")
    if record.id is None:
        raise ValidationError(
            f"{type(record).__name__} {record.uid} is not saved yet: save it first, or create it "
            "in the space (ln.track(space=...), ln.settings.space).")
    target = resolve_space(space)
    if target == record.space_id:
        return record
    move = getattr(record, "_move_to_space", None)
    if move is not None:  # an artifact: its object moves to the new space's prefix too
        move(target)
        return record
    record._assign(space_id=target)
    update_changed(_instance().db, record, system=True)
    return record


# --- members ------------------------------------------------------------------------------
def add_member(space: Any, member: str, role: str = "read") -> SpaceMember:
    """Give PostgreSQL role `member` a `role` in `space` (``read``, ``write``, ``admin``).

    The instance owner also grants the role the use of the instance's
    tables (which rows it sees is up to its spaces); a space admin may add
    members who already have that. An existing membership gets the new role.
    Roles are created by the database administrator (``CREATE ROLE name
    LOGIN``); lineage never creates roles or stores passwords.

    Raises:
        ValidationError: An unknown role, or no PostgreSQL role of that name.
        PermissionDenied: This role administers neither the instance nor the space.
    """
    from lineage.db import access
    from lineage.models.space import ALL_SPACE_ID, ROLES, SpaceMember

    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}.")
    space_id = resolve_space(space)
    instance = _instance()
    db = instance.db
    if not db.is_sqlite:
        access.check_role_name(member)

        def prepare(conn: Any) -> None:
            if not access.role_exists(conn, member):
                raise ValidationError(
                    f"the PostgreSQL server has no role {member!r}. Its administrator creates it "
                    f"(CREATE ROLE \"{member}\" LOGIN, with a password or another authentication "
                    "method; lineage never stores passwords), then add it again.")
            if access.bypasses_spaces(conn):
                access.grant_instance_access(conn, member)
            elif not conn.scalar("SELECT has_table_privilege(?, 'run', 'SELECT')", [member]):
                raise PermissionDenied(
                    f"role {member!r} has no access to this instance's tables yet, and only the "
                    f"instance owner can grant it: run `lineage space add-member ... {member}` "
                    "connected as the owner.")

        db.write(prepare)
    if space_id == ALL_SPACE_ID:  # everyone with access reads and writes all: nothing to store
        return SpaceMember(space_id=space_id, member=member, role="write")
    user_id = instance.user_id()

    def work(conn: Any) -> SpaceMember:
        row = conn.fetchone(f"{SpaceMember.select_sql()} WHERE space_id = ? AND member = ?",
                            [space_id, member])
        if row is not None:
            conn.execute("UPDATE space_member SET role = ? WHERE id = ?", [role, row[0]])
            existing = SpaceMember.from_row(row, conn.dialect)
            existing._assign(role=role)
            return existing
        membership = SpaceMember(space_id=space_id, member=member, role=role,
                                 created_by_id=user_id)
        from lineage.db.record import insert_row

        membership.id = insert_row(conn, membership)
        return membership

    return db.write(work)


def remove_member(space: Any, member: str) -> bool:
    """Take `member` out of `space`; True if it was a member."""
    space_id = resolve_space(space)
    return _instance().db.write(lambda conn: conn.execute(
        "DELETE FROM space_member WHERE space_id = ? AND member = ?", [space_id, member]
    ).rowcount) > 0


def members(space: Any) -> list[tuple[str, str]]:
    """(member, role) of `space`, by member name (on PostgreSQL: those this role may see)."""
    space_id = resolve_space(space)
    return [(m, r) for m, r in _instance().db.query(
        "SELECT member, role FROM space_member WHERE space_id = ? ORDER BY member", [space_id])]


def create_space(name: str, description: str | None = None) -> Space:
    """The space called `name`, created if new (on PostgreSQL by the instance owner).

    Raises:
        PermissionDenied: This role does not own the instance.
    """
    from lineage.models.space import Space

    space = Space(name=name, description=description)
    if space.id is None:
        space._assign(created_by_id=_instance().user_id())
        space.save()
    return space


# --- storage prefix and bucket policy ----------------------------------------------------
_SPACE_UIDS: weakref.WeakKeyDictionary[Instance, dict[int, str | None]] = weakref.WeakKeyDictionary()


def space_uid(instance: Instance, space_id: int | None) -> str | None:
    """The uid naming the storage prefix of `space_id`; None for ``all`` (cached per instance).

    A space's uid never changes, so the cache holds for the life of the instance.

    Raises:
        DoesNotExist: This role sees no space with that id.
    """
    from lineage.db.space_column import ALL_SPACE_ID

    if space_id is None or space_id == ALL_SPACE_ID:
        return None
    uids = _SPACE_UIDS.get(instance)
    if uids is None:
        uids = _SPACE_UIDS[instance] = {}
    if space_id not in uids:
        rows = instance.db.query("SELECT uid FROM space WHERE id = ?", [space_id])
        if not rows:
            from lineage.errors import DoesNotExist

            raise DoesNotExist(f"no space with id {space_id} is visible to this database role.")
        uids[space_id] = rows[0][0]
    return uids[space_id]


#: S3 actions a member's role needs on its space's objects.
_ACTIONS = {
    "read": ["s3:GetObject"],
    "write": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
              "s3:ListMultipartUploadParts"],
}


def principal_placeholder(member: str) -> str:
    """The placeholder ARN standing for the AWS principal of PostgreSQL role `member`."""
    return f"arn:aws:iam::<ACCOUNT_ID>:role/<AWS principal of {member}>"


def storage_prefix(space: Any, root: str | None = None) -> str:
    """Where `space`'s objects live in storage `root` (the default location if None).

    ``<root>/spaces/<space uid>/objects/`` for a space, ``<root>/objects/`` for ``all``.
    """
    from lineage.storage.keys import OBJECTS_PREFIX, space_prefix

    instance = _instance()
    root = (root or instance.storage_root).rstrip("/")
    uid = space_uid(instance, resolve_space(space))
    return f"{root}/{space_prefix(uid)}{OBJECTS_PREFIX}/"


def bucket_policy(space: Any, root: str | None = None) -> dict[str, Any] | None:
    """The S3 bucket policy restricting `space`'s prefix to its members (None if not on S3).

    Each member gets the actions of its role on the objects under the
    space's prefix and the listing of that prefix; one ``Deny`` refuses
    those objects to every other principal of the account but the instance
    owner. Principals are placeholders (``<ACCOUNT_ID>``, ``<AWS principal
    of ROLE>``) for the AWS identities of the PostgreSQL roles: lineage
    cannot know which IAM role or user a database role uses.
    """
    from lineage.models.space import ALL_SPACE_ID

    instance = _instance()
    root = (root or instance.storage_root).rstrip("/")
    if not root.startswith("s3://"):
        return None
    space_id = resolve_space(space)
    bucket, _, base = root[len("s3://"):].partition("/")
    prefix = storage_prefix(space_id, root)[len(f"s3://{bucket}/"):]
    objects = f"arn:aws:s3:::{bucket}/{prefix}*"
    owner = principal_placeholder("the instance owner")
    name = _space_name(space_id)
    if space_id == ALL_SPACE_ID:
        grants = [("every member of the instance", "write")]
    else:
        grants = [(m, "read" if r == "read" else "write") for m, r in members(space_id)]
    statements: list[dict[str, Any]] = []
    for level in ("read", "write"):
        who = [principal_placeholder(m) for m, r in grants if r == level]
        if level == "write":
            who.append(owner)
        if not who:
            continue
        sid = f"Space{space_id}{level.capitalize()}"
        statements.append({"Sid": f"{sid}Objects", "Effect": "Allow",
                           "Principal": {"AWS": who}, "Action": _ACTIONS[level],
                           "Resource": objects})
        statements.append({"Sid": f"{sid}List", "Effect": "Allow", "Principal": {"AWS": who},
                           "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                           "Condition": {"StringLike": {"s3:prefix": f"{prefix}*"}}})
    if space_id != ALL_SPACE_ID:
        allowed = [principal_placeholder(m) for m, _ in grants] + [owner]
        statements.append({"Sid": f"Space{space_id}OthersDenied", "Effect": "Deny",
                           "Principal": "*", "Action": "s3:*", "Resource": objects,
                           "Condition": {"ArnNotLike": {"aws:PrincipalArn": allowed}}})
    return {"Version": "2012-10-17", "Id": f"lineage-space-{name}"[:60].replace(" ", "-"),
            "Statement": statements}


def describe_space(space: Any) -> str:
    """The text of ``lineage space show``: the space, its members, its prefix and bucket policy."""
    import json

    from lineage.models.space import ALL_SPACE_ID, Space

    space_id = resolve_space(space)
    found = Space.filter(id=space_id).first()
    if found is None:
        raise DoesNotExist(_missing(str(space), _instance()))
    rows = members(space_id)
    if space_id == ALL_SPACE_ID:
        listed = "every member of the instance (read and write)"
    else:
        listed = ", ".join(f"{m} ({r})" for m, r in rows) or "none that you can see"
    prefix = storage_prefix(space_id)
    lines = [f"name:        {found.name}", f"uid:         {found.uid}",
             f"description: {found.description or ''}", f"members:     {listed}",
             f"storage:     {prefix}",
             "enforced:    " + ("by PostgreSQL row-level security" if enforced() else
                                "no (labels only: SQLite has one user and no roles)")]
    policy = bucket_policy(space_id)
    if policy is None:
        lines.append("note:        local storage: a bucket policy applies to S3 only; here the "
                     "folder's file permissions are the only protection of the objects.")
    else:
        lines.append("bucket policy (replace each <...> with the AWS account and the IAM "
                     "principal each PostgreSQL role uses; merge with the bucket's policy; "
                     "only the members you can see are in it: run this as the instance owner "
                     "or an admin of the space):")
        lines.append(json.dumps(policy, indent=2))
    return "\n".join(lines)


def _space_name(space_id: int) -> str:
    from lineage.models.space import Space

    found = Space.filter(id=space_id).first()
    return found.name if found is not None else str(space_id)


# --- helpers ---------------------------------------------------------------------------
_NAME_CACHES: weakref.WeakKeyDictionary[Instance, dict[str, int]] = weakref.WeakKeyDictionary()


def _names(instance: Instance) -> dict[str, int]:
    cache = _NAME_CACHES.get(instance)
    if cache is None:
        cache = _NAME_CACHES[instance] = {}
    return cache


def clear_space_cache() -> None:
    """Forget resolved space names (after spaces were created or renamed elsewhere)."""
    _NAME_CACHES.clear()


def _missing(name: str, instance: Instance) -> str:
    if instance.db.is_sqlite:
        return (f"no space named {name!r}. Create it: ln.Space(name={name!r}).save() or "
                f"`lineage space create {name!r}`.")
    return (f"no space named {name!r} is visible to this database role: it does not exist, or "
            "the role is not one of its members. The instance owner creates spaces "
            f"(`lineage space create {name!r}`); an admin of the space adds members "
            f"(`lineage space add-member {name!r} ROLE --role write`).")
