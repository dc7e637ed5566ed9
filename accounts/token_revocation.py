"""A user's DRF API tokens die with the password: whenever the stored password hash changes, every
``rest_framework.authtoken`` token of that user is deleted.

A token is a password that never expires. Without this, a token taken while someone else held the
account (an attacker who signed up with the victim's address, a stolen laptop) kept working after
the account's holder reset and changed the password, the very acts meant to shut them out. Django already
does the same for sessions (the session hash is derived from the password hash).

One ``pre_save``/``post_save`` pair on the user model sees every path that changes the password
and saves: the web password change and reset, the admin's password form, ``changepassword``,
``set_password()`` then ``save()`` in anyone's code, and Django's re-hashing of the same password
when ``PASSWORD_HASHERS`` asks for more work (the hash changes, so that ends the tokens too, as it
ends the user's other sessions). Writes that bypass ``save()`` (``update()``, raw SQL) are not seen
here: for them each token is bound to the hash it was issued under (``TokenBinding``, a keyed
digest, as Django binds a session with ``get_session_auth_hash()``), and
``PasswordBoundTokenAuthentication`` refuses, and deletes, a token whose user's hash has changed.
"""

from django.apps import apps
from django.conf import settings
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils.crypto import constant_time_compare, salted_hmac

from authfold.accounts.caseless import table_ready

# The HMAC's salt: a digest made for token bindings is good for nothing else.
BINDING_KEY_SALT = "authfold.accounts.token_revocation.password_digest"

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
    stored meanwhile is not this save's to notice: its tokens are bound to that hash, and refused
    once this save writes another.
    """
    if raw or instance.pk is None or not saves_password(update_fields):
        return
    loaded = instance.__dict__.get(LOADED_PASSWORD_ATTRIBUTE)
    trusted = not instance._state.adding and instance._state.db == using
    if trusted and loaded is not None and loaded == instance.password:
        return
    stored = sender._base_manager.using(using).filter(pk=instance.pk)
    if stored.exclude(password=instance.password).exists():
        instance.__dict__[PASSWORD_CHANGED_ATTRIBUTE] = True


def delete_tokens_after_password_change(sender, instance, raw, using, update_fields=None, **kwargs):
    """``post_save``: once the new hash is saved, delete the user's tokens (none outlive it).

    After the save, not before: a save that fails (a refused twin) must not cost the tokens.
    """
    if saves_password(update_fields) and "password" in instance.__dict__:
        instance.__dict__[LOADED_PASSWORD_ATTRIBUTE] = instance.__dict__["password"]
    if not instance.__dict__.pop(PASSWORD_CHANGED_ATTRIBUTE, False):
        return
    from rest_framework.authtoken.models import Token

    Token.objects.using(using).filter(user_id=instance.pk).delete()


def password_digest(password_hash, secret=None):
    """The keyed digest of a stored password hash that a token is bound to (``SECRET_KEY``'s, or
    ``secret``'s)."""
    return salted_hmac(
        BINDING_KEY_SALT, password_hash, secret=secret, algorithm="sha256"
    ).hexdigest()


def digest_matches(bound_digest, password_hash):
    """Whether ``bound_digest`` is ``password_hash``'s under ``SECRET_KEY`` or one of its
    ``SECRET_KEY_FALLBACKS`` (so rotating the key, as Django allows, ends no token)."""
    secrets = [None, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return any(
        constant_time_compare(bound_digest, password_digest(password_hash, secret))
        for secret in secrets
    )


def bind_token(token, using):
    """Bind ``token`` to its user's current password hash (a token issued, or first seen, now)."""
    from authfold.accounts.models import TokenBinding

    TokenBinding.objects.using(using).update_or_create(
        token_key=token.pk, defaults={"password_digest": password_digest(token.user.password)}
    )


def bound_to_current_password(token, using):
    """Whether ``token`` was issued under its user's current password hash (a token not bound
    yet is bound now; before ``migrate`` made the table, every token is)."""
    from authfold.accounts.models import TokenBinding

    if not table_ready(TokenBinding, using):
        return True
    bindings = TokenBinding.objects.using(using).filter(token_key=token.pk)
    bound = bindings.values_list("password_digest", flat=True).first()
    if bound is None:
        bind_token(token, using)
        return True
    return digest_matches(bound, token.user.password)


def issue_token(user):
    """The user's DRF token for a login, a new one when the one it has was issued under another
    password hash (set around ``save()``): that one is deleted, never handed out again."""
    from django.db import router
    from rest_framework.authtoken.models import Token

    token, created = Token.objects.get_or_create(user=user)
    if created or bound_to_current_password(token, router.db_for_write(Token)):
        return token
    token.delete()
    return Token.objects.get_or_create(user=user)[0]  # a login racing this one may make it first


def bind_new_token(sender, instance, created, raw, using, **kwargs):
    """``post_save`` on ``Token``: a new token is bound to the hash it is issued under (once
    the binding table exists: code deployed before ``migrate`` issues tokens unbound)."""
    from authfold.accounts.models import TokenBinding

    if raw or not created or not table_ready(TokenBinding, using):
        return
    bind_token(instance, using)


def unbind_deleted_token(sender, instance, using, **kwargs):
    """``post_delete`` on ``Token``: its binding goes with it."""
    from authfold.accounts.models import TokenBinding

    if table_ready(TokenBinding, using):
        TokenBinding.objects.using(using).filter(token_key=instance.pk).delete()


def connect_token_revocation(user_model):
    """Connect the pair for ``user_model`` (from ``AppConfig.ready``); nothing to do without
    ``rest_framework.authtoken``, the only tokens we know how to delete."""
    if not apps.is_installed("rest_framework.authtoken"):
        return
    post_init.connect(
        remember_loaded_password, sender=user_model, dispatch_uid="authfold-password-loaded"
    )
    pre_save.connect(
        remember_password_change, sender=user_model, dispatch_uid="authfold-password-pre"
    )
    post_save.connect(
        delete_tokens_after_password_change,
        sender=user_model,
        dispatch_uid="authfold-password-post",
    )
    from rest_framework.authtoken.models import Token

    post_save.connect(bind_new_token, sender=Token, dispatch_uid="authfold-token-bind")
    post_delete.connect(unbind_deleted_token, sender=Token, dispatch_uid="authfold-token-unbind")
