"""What a new password ends: a save that stores a different password hash deletes the account's
API tokens and drops its pending email change.

Both were granted under the old password. Whoever held it (an attacker who guessed it, a stolen
laptop) could otherwise keep a token, or confirm an address change they had asked for, after the
owner reset the password: the very act meant to shut them out. Django ends the other sessions the
same way (the session hash is derived from the password hash).

One ``pre_save``/``post_save`` pair on the user model (its proxies and multi-table subclasses
too) sees every path that changes the password and saves: the web password change and reset, the
admin's password form, ``changepassword``, ``set_password()`` then ``save()`` in anyone's code,
and Django's re-hashing of the same password when ``PASSWORD_HASHERS`` asks for more work (the
hash changes, so that ends them too, as it ends the user's other sessions). Writes that bypass ``save()`` are caught where the grant is used:
tokens and confirmation keys are each bound to the hash they were issued under.
"""

from django.db.models.signals import post_init, post_save, pre_save

from authfold.accounts.email_verification import drop_pending_change
from authfold.accounts.token_revocation import delete_tokens
from authfold.accounts.user_model import connect_to_user_models, keyed_user_model, user_row_id

# Where remember_password_change marks a save that changes the stored hash, and where an
# instance keeps the hash it was loaded with (or last saved).
PASSWORD_CHANGED_ATTRIBUTE = "_authfold_password_changed"
LOADED_PASSWORD_ATTRIBUTE = "_authfold_loaded_password"


def saves_password(update_fields):
    """Whether a save with these ``update_fields`` writes the password column."""
    return update_fields is None or "password" in update_fields


def remember_loaded_password(sender, instance, **kwargs):
    """``post_init``: note the hash a row was loaded with (no query), for the save to compare."""
    if "password" in instance.__dict__:
        instance.__dict__[LOADED_PASSWORD_ATTRIBUTE] = instance.__dict__["password"]


def remember_password_change(sender, instance, raw, using, update_fields, **kwargs):
    """``pre_save``: mark the instance when the hash it is about to store differs from the stored one.

    Compared with the row, not with what ``set_password`` was told, so a hash set any way counts.
    A hash the instance still has as it was loaded from this database (or last saved there) needs
    no look at the row; any other is compared with the row read now. A hash another process
    stored meanwhile is not this save's to notice: its grants are bound to that hash, and refused
    once this save writes another.
    """
    pk = user_row_id(instance)
    if raw or pk is None or not saves_password(update_fields):
        return
    loaded = instance.__dict__.get(LOADED_PASSWORD_ATTRIBUTE)
    trusted = not instance._state.adding and instance._state.db == using
    if trusted and loaded is not None and loaded == instance.password:
        return
    # The user table, which a multi-table subclass's own table may not have a row in yet.
    stored = keyed_user_model()._base_manager.using(using).filter(pk=pk)
    if stored.exclude(password=instance.password).exists():
        instance.__dict__[PASSWORD_CHANGED_ATTRIBUTE] = True


def end_grants_after_password_change(sender, instance, raw, using, update_fields=None, **kwargs):
    """``post_save``: once the new hash is saved, delete the user's tokens and drop its pending
    email change (none outlive it).

    After the save, not before: a save that fails (a refused twin) must not cost them.
    """
    if saves_password(update_fields) and "password" in instance.__dict__:
        instance.__dict__[LOADED_PASSWORD_ATTRIBUTE] = instance.__dict__["password"]
    if not instance.__dict__.pop(PASSWORD_CHANGED_ATTRIBUTE, False):
        return
    delete_tokens(instance.pk, using)
    drop_pending_change(instance.pk, using)


def connect_password_change_receivers():
    """Connect the pair for the user model, its proxies and subclasses (from ``AppConfig.ready``)."""
    connect_to_user_models(post_init, remember_loaded_password, "authfold-password-loaded")
    connect_to_user_models(pre_save, remember_password_change, "authfold-password-pre")
    connect_to_user_models(post_save, end_grants_after_password_change, "authfold-password-post")
