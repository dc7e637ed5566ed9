"""Applying a resolution plan, and reverting it: renames in batches, each logged and reversible.

Every rename changes ``username`` and the user's key row in the same transaction (historical
models fire no signals, so the key is written here, with :func:`authfold.data_migrations.keys.model_key_fields`), and
writes a :class:`~authfold.accounts.models.RenameRecord`. Statements grow with the renames, not the users:
a batch is a handful of statements whatever its size.
"""

import uuid
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.utils import timezone

from authfold.accounts.caseless import digest, username_key
from authfold.data_migrations.detection import Survey, chunks
from authfold.data_migrations.keys import key_columns, model_key_fields
from authfold.data_migrations.planning import flatten, plan_resolution

BATCH_SIZE = 500


@dataclass
class ResolutionResult:
    """What one run did: its id, the groups it planned, the renames made and those skipped."""

    run: uuid.UUID
    planned: list = field(default_factory=list)
    renamed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (rename, why)


@dataclass
class RevertResult:
    """What a revert did: records restored, and records left alone with the reason."""

    restored: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (record, why)


def resolve_username_conflicts(
    user_model, key_model, record_model, using, policy=None, progress=None, batch_size=BATCH_SIZE
):
    """Find the username twins, plan their resolution and apply it: the whole engine, as the
    migration and ``conflict_audit --fix`` run it. A second call finds nothing to do."""
    survey = Survey(user_model, key_model, using)
    planned = plan_resolution(survey.username_conflicts(), survey.username_census(), policy)
    result = apply_resolution(
        user_model, key_model, record_model, flatten(planned), using, progress, batch_size
    )
    result.planned = planned
    return result


def apply_resolution(
    user_model, key_model, record_model, renames, using, progress=None, batch_size=BATCH_SIZE
):
    """Make the planned ``renames``, one transaction per batch. A rename whose account changed
    since it was planned, or whose new name was taken meanwhile, is skipped and reported."""
    result = ResolutionResult(run=uuid.uuid4())
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    for batch in chunks(renames, batch_size):
        with transaction.atomic(using=using):
            current = {
                pk: (username, email)
                for pk, username, email in users.filter(
                    pk__in=[rename.id for rename in batch]
                ).values_list("pk", "username", "email")
            }
            taken_now = new_names_taken(users, keys, [rename.new for rename in batch])
            ready = []
            for rename in batch:
                if rename.id not in current or current[rename.id][0] != rename.old:
                    result.skipped.append((rename, "the account changed since the plan"))
                elif rename.new in taken_now:
                    result.skipped.append((rename, f"{rename.new!r} was taken meanwhile"))
                else:
                    ready.append(rename)
            update_rows(user_model, using, ["username"], {r.id: [r.new] for r in ready})
            write_keys(key_model, keys, {r.id: (r.new, current[r.id][1]) for r in ready}, using)
            record_model._default_manager.using(using).bulk_create(
                [
                    record_model(
                        run=result.run,
                        user_id=rename.id,
                        old_username=rename.old,
                        new_username=rename.new,
                        reason=rename.reason[:255],
                    )
                    for rename in ready
                ]
            )
        result.renamed.extend(ready)
        if progress:
            progress(len(batch))
    return result


def new_names_taken(users, keys, names):
    """Which of ``names`` some account now has, exactly or (through the key table) caselessly."""
    taken = set(users.filter(username__in=names).values_list("username", flat=True))
    by_digest = {}
    for name in names:
        by_digest.setdefault(digest(username_key(name)), []).append(name)
    for found in keys.filter(username_digest__in=list(by_digest)).values_list(
        "username_digest", flat=True
    ):
        taken.update(by_digest[found])
    return taken


def write_keys(key_model, keys, identities, using):
    """Set the key rows of ``identities`` ({user id: (username, email)}): update the rows that
    exist, create the missing ones (users written around ``Model.save()``)."""
    if not identities:
        return
    existing = set(keys.filter(user_id__in=list(identities)).values_list("user_id", flat=True))
    columns = [column for column in key_columns(key_model, using) if column != "email_claim"]
    fields = {pk: model_key_fields(columns, *identity) for pk, identity in identities.items()}
    update_rows(
        key_model,
        using,
        columns,
        {pk: [row[column] for column in columns] for pk, row in fields.items() if pk in existing},
    )
    keys.bulk_create(
        [key_model(user_id=pk, **row) for pk, row in fields.items() if pk not in existing]
    )


def update_rows(model, using, field_names, values):
    """``UPDATE`` each row of ``values`` ({pk: [value per field]}) by primary key, in one
    ``executemany``: one short statement per row, sent together (Django's ``bulk_update`` builds
    a ``CASE`` per field whose compilation costs milliseconds a row)."""
    if not values:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(model._meta.get_field(name).column)} = %s" for name in field_names
    )
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*row, pk] for pk, row in values.items()])


def revert_resolution(user_model, key_model, record_model, using, run=None, batch_size=BATCH_SIZE):
    """Give renamed accounts their old names back, newest rename first, and mark the records
    reverted. Only ``run`` if given, else every rename not yet reverted. A record is left alone,
    and reported, when the account is gone, has been renamed again since, or when another account
    has taken the old name since (exactly, or caselessly and joined after the rename)."""
    result = RevertResult()
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    records = record_model._default_manager.using(using).filter(reverted_at__isnull=True)
    if run is not None:
        records = records.filter(run=run)
    pending = list(records.order_by("-created_at", "-id"))
    for batch in chunks(pending, batch_size):
        with transaction.atomic(using=using):
            ids = {record.user_id for record in batch if record.user_id is not None}
            current = {
                pk: [username, email, joined]
                for pk, username, email, joined in users.filter(pk__in=ids).values_list(
                    "pk", "username", "email", "date_joined"
                )
            }
            holders = holders_of(users, keys, [record.old_username for record in batch])
            restored = []
            for record in batch:
                why = refusal(record, current, holders)
                if why:
                    result.refused.append((record, why))
                    continue
                current[record.user_id][0] = record.old_username
                restored.append(record)
            identities = {record.user_id: tuple(current[record.user_id][:2]) for record in restored}
            update_rows(
                user_model,
                using,
                ["username"],
                {pk: [name] for pk, (name, _) in identities.items()},
            )
            write_keys(key_model, keys, identities, using)
            record_model._default_manager.using(using).filter(
                pk__in=[record.pk for record in restored]
            ).update(reverted_at=timezone.now())
        result.restored.extend(restored)
    return result


def holders_of(users, keys, names):
    """{key: [(id, username, date_joined)]} of the accounts that hold ``names`` in some case:
    exactly, or through the key table."""
    fields = ("pk", "username", "date_joined")
    rows = dict.fromkeys(users.filter(username__in=names).values_list(*fields))
    digests = list({digest(username_key(name)) for name in names})
    keyed = keys.filter(username_digest__in=digests).values("user_id")
    rows.update(dict.fromkeys(users.filter(pk__in=keyed).values_list(*fields)))
    holders = {}
    for pk, username, joined in rows:
        holders.setdefault(username_key(username), []).append((pk, username, joined))
    return holders


def refusal(record, current, holders):
    """Why ``record`` cannot be reverted, or ``None`` if it can."""
    if record.user_id is None or record.user_id not in current:
        return "the account no longer exists"
    if current[record.user_id][0] != record.new_username:
        return f"the account has been renamed since, to {current[record.user_id][0]!r}"
    for pk, username, joined in holders.get(username_key(record.old_username), []):
        if pk == record.user_id:
            continue
        if username == record.old_username:
            return f"account {pk} now has the name {username!r}"
        if joined > record.created_at:
            return f"account {pk} took the name as {username!r} after the rename"
    return None
