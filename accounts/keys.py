"""Keeps every user's :class:`~accounts.models.CaselessKey` in step with the user, on each save.

The receivers see every write that goes through ``Model.save()`` (forms, serializers, the admin,
``create_user``, other apps' code). Writes that bypass it (``bulk_create``, ``update()``, raw SQL)
leave a user without a key; ``conflict_audit`` reports those and ``--fix`` backfills them.
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


def write_key(key_model, user_id, username, email, using):
    """Insert or update one key row inside a savepoint; a refusal becomes CaselessConflict."""
    fields = key_fields(username, email)
    try:
        with transaction.atomic(using=using):
            updated = (
                key_model._default_manager.using(using).filter(user_id=user_id).update(**fields)
            )
            if not updated:
                key_model._default_manager.using(using).create(user_id=user_id, **fields)
    except IntegrityError as error:
        # Every database names the refused column or its index (which contains the column name).
        if "email_digest" in str(error):
            raise CaselessConflict("email", email) from error
        raise CaselessConflict("username", username) from error


def touches_identity(update_fields):
    return update_fields is None or bool({"username", "email"} & set(update_fields))


def update_key_before_save(sender, instance, raw, using, update_fields, **kwargs):
    """For an existing user, write the new key first, so a refusal stops the user's own update."""
    if raw or instance._state.adding or instance.pk is None:
        return
    if not touches_identity(update_fields) or not caseless_keys_ready(using):
        return
    from accounts.models import CaselessKey

    write_key(CaselessKey, instance.pk, instance.username, instance.email, using)


def create_key_after_save(sender, instance, created, raw, using, **kwargs):
    """For a new user, write the key; if the database refuses it, take the new user back out.

    Django commits the user's row before ``post_save`` when no transaction is open, so the
    compensating delete is what keeps a refused twin from staying behind.
    """
    if raw or not created or not caseless_keys_ready(using):
        return
    from accounts.models import CaselessKey

    try:
        write_key(CaselessKey, instance.pk, instance.username, instance.email, using)
    except CaselessConflict:
        sender._default_manager.using(using).filter(pk=instance.pk).delete()
        instance.pk = None
        instance._state.adding = True
        raise


def connect_receivers():
    """Connect the receivers for the project's user model (called from ``AppConfig.ready``)."""
    user_model = get_user_model()
    pre_save.connect(update_key_before_save, sender=user_model, dispatch_uid="authfold-key-pre")
    post_save.connect(create_key_after_save, sender=user_model, dispatch_uid="authfold-key-post")
