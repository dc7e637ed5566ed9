"""Backfilling :class:`~authfold.accounts.models.CaselessKey` rows for users that have none."""

from django.db import IntegrityError, transaction

from authfold.accounts.caseless import skeleton_digest
from authfold.accounts.keys import key_fields, orphan_keys
from authfold.data_migrations.detection import pages

BACKFILL_BATCH_SIZE = 5000


def model_key_fields(key_model, username, email):
    """:func:`~authfold.accounts.keys.key_fields` limited to the columns ``key_model`` has: the
    historical model of an earlier migration (0001 to 0005) has no ``skeleton_digest`` yet."""
    columns = {field.name for field in key_model._meta.concrete_fields}
    return {name: value for name, value in key_fields(username, email).items() if name in columns}


def backfill_caseless_keys(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Create the missing key rows, in primary-key order and batches; returns how many it made.

    Users that already have a key are left alone, so it can run again at any time, and beside
    live traffic: a key that a sign-up writes between our look and our insert wins.
    """
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    created = 0
    for rows in pages(users, ("pk", "username", "email"), batch_size):
        first_pk, last_pk = rows[0][0], rows[-1][0]
        have_key = set(
            keys.filter(user_id__gte=first_pk, user_id__lte=last_pk).values_list(
                "user_id", flat=True
            )
        )
        missing = [
            key_model(user_id=pk, **model_key_fields(key_model, username, email))
            for pk, username, email in rows
            if pk not in have_key
        ]
        if not missing:
            continue
        keys.bulk_create(missing, batch_size=batch_size, ignore_conflicts=True)
        # Count what is there now, not what we sent: a conflicting row was skipped.
        in_batch = keys.filter(user_id__gte=first_pk, user_id__lte=last_pk).count()
        created += in_batch - len(have_key)
    return created


def refresh_stale_caseless_keys(user_model, key_model, using, batch_size=BACKFILL_BATCH_SIZE):
    """Rewrite the key rows that no longer match their user; returns how many it rewrote.

    A user renamed around ``Model.save()`` (``update()``, ``bulk_update``, raw SQL) keeps the key
    of its old name, which would hide a twin from the enforcement migration's check. Reads every
    user once, in primary-key batches; writes only the rows that differ. Once usernames are
    unique (0003), a renamed twin's fresh key is refused: its stale key is then deleted, so the
    user is keyless and ``conflict_audit`` (which scans keyless users) reports the twin.
    """
    users = user_model._default_manager.using(using)
    keys = key_model._default_manager.using(using)
    columns = list(model_key_fields(key_model, "", None))
    rewritten = 0
    for rows in pages(users, ("pk", "username", "email"), batch_size):
        stored = {
            user_id: values
            for user_id, *values in keys.filter(
                user_id__gte=rows[0][0], user_id__lte=rows[-1][0]
            ).values_list("user_id", *columns)
        }
        stale = []
        for pk, username, email in rows:
            fields = model_key_fields(key_model, username, email)
            current = stored.get(pk)
            if current is not None and current != [fields[column] for column in columns]:
                stale.append(key_model(user_id=pk, **fields))
        rewritten += rewrite_keys(keys, stale, columns, using, batch_size)
    return rewritten


def rewrite_keys(keys, fresh, fields, using, batch_size):
    """Store ``fresh`` key rows' ``fields`` over the old ones; a refused row's old key is
    deleted instead."""
    try:
        with transaction.atomic(using=using):
            keys.bulk_update(fresh, fields, batch_size=batch_size)
        return len(fresh)
    except IntegrityError:
        pass
    rewritten = 0
    for key in fresh:
        try:
            with transaction.atomic(using=using):
                keys.filter(user_id=key.user_id).update(
                    **{field: getattr(key, field) for field in fields}
                )
            rewritten += 1
        except IntegrityError:
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
