"""Backfilling :class:`~authfold.accounts.models.CaselessKey` rows for users that have none."""

from django.db import IntegrityError, connections, transaction
from django.db.models.constants import OnConflict

from authfold.accounts.caseless import email_digest, skeleton_digest, username_digest
from authfold.accounts.key_rows import key_fields, orphan_keys
from authfold.data_migrations.detection import pages

BACKFILL_BATCH_SIZE = 5000


# Every column of a key row that is derived from its user, in the order they were added.
KEY_COLUMNS = (
    "username_digest",
    "email_digest",
    "skeleton_digest",
    "email_claim",
    "username_source",
    "email_source",
)


def key_columns(key_model, using):
    """The key columns (of :data:`KEY_COLUMNS`) that both ``key_model`` and its table on ``using``
    have: the historical model of an earlier migration lacks the later ones (``skeleton_digest``
    from 0006, ``email_claim`` from 0007, the sources from 0014), and the real model names them before those migrations
    have run."""
    fields = {field.name for field in key_model._meta.concrete_fields}
    connection = connections[using]
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, key_model._meta.db_table)
    present = {column.name for column in table}
    return [name for name in KEY_COLUMNS if name in fields and name in present]


def model_key_fields(columns, username, email):
    """:func:`~authfold.accounts.keys.key_fields` limited to ``columns`` (:func:`key_columns`)."""
    return {name: value for name, value in key_fields(username, email).items() if name in columns}


def insert_keys(key_model, using, keys, columns, batch_size):
    """``INSERT`` the unsaved key rows ``keys`` with exactly ``columns`` (field names), skipping
    any a unique index refuses: ``bulk_create(ignore_conflicts=True)`` naming only the columns the
    table has (the real model's ``create`` would name ``email_claim`` before 0007 added it)."""
    connection = connections[using]
    ops, quote = connection.ops, connection.ops.quote_name
    fields = [key_model._meta.get_field(name) for name in ["user", *columns]]
    names = ", ".join(quote(field.column) for field in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    for start in range(0, len(keys), batch_size):
        batch = keys[start : start + batch_size]
        sql = (
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} "
            f"{quote(key_model._meta.db_table)} ({names}) "
            f"VALUES {', '.join([placeholders] * len(batch))} {suffix}"
        )
        values = [getattr(key, field.attname) for key in batch for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)


def backfill_caseless_keys(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Create the missing key rows, in primary-key order and batches; returns how many it made.

    Users that already have a key are left alone, so it can run again at any time, and beside
    live traffic: a key that a sign-up writes between our look and our insert wins. From 0007 on,
    a user written around ``save()`` with an address another account claims gets its key
    unclaimed: it shows among the grandfathered addresses ``conflict_audit`` lists.
    """
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    columns = key_columns(key_model, using)
    claims = "email_claim" in columns
    created = 0
    for rows in pages(users, ("pk", "username", "email"), batch_size):
        first_pk, last_pk = rows[0][0], rows[-1][0]
        have_key = set(
            keys.filter(user_id__gte=first_pk, user_id__lte=last_pk).values_list(
                "user_id", flat=True
            )
        )
        missing = [
            key_model(user_id=pk, **model_key_fields(columns, username, email))
            for pk, username, email in rows
            if pk not in have_key
        ]
        if not missing:
            continue
        if not claims:
            insert_keys(key_model, using, missing, columns, batch_size)
        else:
            for key in missing:
                key.email_claim = key.email_digest
            insert_keys(key_model, using, missing, columns, batch_size)
            unclaimed = unkeyed(keys, missing)
            for key in unclaimed:
                key.email_claim = None
            insert_keys(key_model, using, unclaimed, columns, batch_size)
        # Count what is there now, not what we sent: a conflicting row was skipped.
        in_batch = keys.filter(user_id__gte=first_pk, user_id__lte=last_pk).count()
        created += in_batch - len(have_key)
    return created


def unkeyed(keys, wanted):
    """The rows of ``wanted`` (unsaved key rows) whose user still has no key."""
    have = set(
        keys.filter(user_id__in=[key.user_id for key in wanted]).values_list("user_id", flat=True)
    )
    return [key for key in wanted if key.user_id not in have]


def refresh_stale_caseless_keys(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Rewrite the key rows that no longer match their user; returns how many it rewrote.

    A user renamed around ``Model.save()`` (``update()``, ``bulk_update``, raw SQL) keeps the key
    of its old name, which would hide a twin from the enforcement migration's check. Reads every
    user once, in primary-key batches; writes only the rows that differ. Once usernames are
    unique (0003), a renamed twin's fresh key is refused: its stale key is then deleted, so the
    user is keyless and ``conflict_audit`` (which scans keyless users) reports the twin. From
    0007 on a changed address is claimed (an unchanged one keeps its claim or grandfathering).
    """
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    columns = key_columns(key_model, using)
    # The claim follows from the address and is never compared; a missing skeleton is stale.
    derived = [column for column in columns if column != "email_claim"]
    rewritten = 0
    for rows in pages(users, ("pk", "username", "email"), batch_size):
        stored = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in keys.filter(user_id__gte=rows[0][0], user_id__lte=rows[-1][0]).values_list(
                "user_id", *columns
            )
        }
        stale = []
        for pk, username, email in rows:
            fields = model_key_fields(columns, username, email)
            current = stored.get(pk)
            if current is None or all(current[column] == fields[column] for column in derived):
                continue
            if "email_claim" in columns:
                keeps_address = current["email_digest"] == fields["email_digest"]
                fields["email_claim"] = (
                    current["email_claim"] if keeps_address else fields["email_digest"]
                )
            stale.append(key_model(user_id=pk, **fields))
        rewritten += rewrite_keys(keys, stale, using, batch_size, columns)
    return rewritten


def rewrite_keys(keys, fresh, using, batch_size, fields):
    """Store ``fresh`` key rows' ``fields`` over the old ones. A row refused for its email claim
    (its address is now keyed as another account's) keeps the address grandfathered, unclaimed; a
    row refused otherwise has its old key deleted instead."""
    try:
        with transaction.atomic(using=using):
            keys.bulk_update(fresh, fields, batch_size=batch_size)
        return len(fresh)
    except IntegrityError:
        pass
    rewritten = 0
    for key in fresh:
        values = {field: getattr(key, field) for field in fields}
        attempts = [values]
        if values.get("email_claim") is not None:
            attempts.append({**values, "email_claim": None})
        for attempt in attempts:
            try:
                with transaction.atomic(using=using):
                    keys.filter(user_id=key.user_id).update(**attempt)
                rewritten += 1
                break
            except IntegrityError:
                continue
        else:
            keys.filter(user_id=key.user_id).delete()
    return rewritten


def backfill_skeleton_digests(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Fill the skeleton digest of every key row that has none, in primary-key batches, each
    committed on its own (migration 0006); returns how many it filled. Can run again any time.

    Pages over the key table by primary key (with each row's username), not over the rows still
    without a skeleton: that filter has no index, and each page would read past every row
    already filled.
    """
    # Imported here: the resolution engine imports this module for model_key_fields.
    from authfold.data_migrations.resolution import update_rows

    keys = key_model._default_manager.using(using)
    filled = 0
    for rows in pages(keys, ("pk", "user__username", "skeleton_digest"), batch_size):
        missing = {pk: [skeleton_digest(name)] for pk, name, stored in rows if stored is None}
        if not missing:
            continue
        with transaction.atomic(using=using):
            update_rows(key_model, using, ["skeleton_digest"], missing)
        filled += len(missing)
    return filled


def fill_key_sources(key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Record the texts each key row was computed from (migration 0014), for the rows whose
    digests are still their user's; returns how many it filled. A row that no longer matches
    (written around ``save()``) gets none, so the audit still reads and reports it. In
    primary-key batches, each committed on its own; run again, it finds what is done."""
    from authfold.data_migrations.resolution import update_rows

    keys = key_model._default_manager.using(using)
    fields = (
        "pk",
        "user__username",
        "user__email",
        "username_digest",
        "email_digest",
        "username_source",
    )
    filled = 0
    for rows in pages(keys, fields, batch_size):
        matching = {
            pk: [username, email]
            for pk, username, email, stored_username, stored_email, source in rows
            if source is None
            and stored_username == username_digest(username)
            and stored_email == email_digest(email)
        }
        if not matching:
            continue
        with transaction.atomic(using=using):
            update_rows(key_model, using, ["username_source", "email_source"], matching)
        filled += len(matching)
    return filled


def delete_orphan_keys(key_model, using):
    """Delete every key row whose user is gone (see ``orphan_keys``); returns how many."""
    with transaction.atomic(using=using):
        deleted, _ = orphan_keys(key_model, using).delete()
    return deleted


def sync_caseless_keys(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Give every user a key that matches it: drop the dead rows (which would hold a name
    against a new owner), backfill the missing, rewrite the stale."""
    delete_orphan_keys(key_model, using)
    created = backfill_caseless_keys(user_model, key_model, using, batch_size)
    rewritten = refresh_stale_caseless_keys(user_model, key_model, using, batch_size)
    return created, rewritten
