"""Keeps every user's :class:`~accounts.models.CaselessKey` in step with the user, on each save.

The receivers see every write that goes through ``Model.save()`` (forms, serializers, the admin,
``create_user``, other apps' code, ``loaddata``). For an existing user the key is written *before*
the row, so a refusal stops the user's own update; for a new user it is written just after the
INSERT (the key points at the row), and a refused twin is deleted again.

Writes that bypass ``save()`` (``bulk_create``, ``update()``, ``bulk_update``, raw SQL) leave a
user without a key or with a stale one; ``data_migrations.keys.sync_caseless_keys`` repairs them
(migration 0003 runs it, ``conflict_audit --fix`` backfills). docs/ADOPTING.md lists every path.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save, pre_save

from accounts.caseless import caseless_keys_ready, email_digest, username_digest


class CaselessConflict(IntegrityError):
    """The database refused a user whose username (or email) is caselessly taken.

    An ``IntegrityError``, so code that already handles those keeps working; ``field`` names the
    field to report the error on.
    """

    def __init__(self, field, value):
        self.field = field
        self.value = value
        super().__init__(f"another account already has the {field} {value!r} (in some case)")


def key_fields(username, email):
    """The column values of a user's key row."""
    return {"username_digest": username_digest(username), "email_digest": email_digest(email)}


def refused_field(error):
    """The user field whose caseless key a database refusal is about, or ``None`` for another one.

    Every database names the refused column or its constraint, and both contain the column name
    (SQLite: ``UNIQUE constraint failed: accounts_caselesskey.username_digest``; PostgreSQL and
    MariaDB: the constraint ``accounts_caselesskey_username_digest_unique``).
    """
    message = str(error)
    if "email_digest" in message:
        return "email"
    if "username_digest" in message:
        return "username"
    return None


def write_key(key_model, user_id, username, email, using, new=False):
    """Write one user's key row inside a savepoint; a caseless refusal becomes CaselessConflict.

    ``new``: the user was just inserted, so there is no row to update. Any other integrity error
    (the user row vanished under us, say) is raised as it is: it is not a caseless twin.
    """
    fields = key_fields(username, email)
    keys = key_model._default_manager.using(using)
    try:
        with transaction.atomic(using=using):
            if new or not keys.filter(user_id=user_id).update(**fields):
                keys.create(user_id=user_id, **fields)
    except IntegrityError as error:
        field = refused_field(error)
        if field is None:
            raise
        raise CaselessConflict(field, username if field == "username" else email) from error


def touches_identity(update_fields):
    """Whether a save with these ``update_fields`` can change the username or the email."""
    return update_fields is None or bool({"username", "email"} & set(update_fields))


def row_exists(sender, instance, using):
    return sender._default_manager.using(using).filter(pk=instance.pk).exists()


def update_key_before_save(sender, instance, raw, using, update_fields, **kwargs):
    """For an existing user, write the new key first, so a refusal stops the user's own update.

    "Existing" by the database, not by ``_state.adding``: ``User(pk=7, ...).save()`` updates row 7.
    """
    if raw or instance.pk is None:
        return
    if not touches_identity(update_fields) or not caseless_keys_ready(using):
        return
    if instance._state.adding and not row_exists(sender, instance, using):
        return  # an INSERT with a chosen primary key: the key follows in post_save
    from accounts.models import CaselessKey

    write_key(CaselessKey, instance.pk, instance.username, instance.email, using)


def write_key_after_save(sender, instance, created, raw, using, **kwargs):
    """For a new user (or any ``loaddata`` row), write the key; if refused, take the user back out.

    Django commits the user's row before ``post_save`` when no transaction is open, so the
    compensating delete is what keeps a refused twin from staying behind. ``loaddata`` (``raw``)
    skips ``pre_save`` work (rows may arrive in any order), so its keys are written here; it runs
    in one transaction, which a refusal rolls back whole.
    """
    if not (created or raw) or not caseless_keys_ready(using):
        return
    from accounts.models import CaselessKey

    try:
        write_key(
            CaselessKey,
            instance.pk,
            instance.username,
            instance.email,
            using,
            new=created and not raw,
        )
    except CaselessConflict:
        if created:
            sender._default_manager.using(using).filter(pk=instance.pk).delete()
            instance.pk = None
            instance._state.adding = True
        raise


def connect_receivers():
    """Connect the receivers for the project's user model (called from ``AppConfig.ready``)."""
    user_model = get_user_model()
    pre_save.connect(update_key_before_save, sender=user_model, dispatch_uid="authfold-key-pre")
    post_save.connect(write_key_after_save, sender=user_model, dispatch_uid="authfold-key-post")
