"""A user's DRF API tokens die with the password: whenever the stored password hash changes, every
``rest_framework.authtoken`` token of that user is deleted.

A token is a password that never expires. Without this, a token taken while someone else held the
account (an attacker who signed up with the victim's address, a stolen laptop) kept working after
the account's holder reset and changed the password, the very acts meant to shut them out. Django already
does the same for sessions (the session hash is derived from the password hash).

A save that stores a new hash deletes the tokens (:mod:`authfold.accounts.password_changes` sees
every such save). Writes that bypass ``save()`` (``update()``, raw SQL) are not seen there: for
them each token is bound to the hash it was issued under (``TokenBinding``, a keyed digest, as
Django binds a session with ``get_session_auth_hash()``), and
``PasswordBoundTokenAuthentication`` refuses, and deletes, a token whose user's hash has changed.
"""

from django.apps import apps
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare, salted_hmac

from authfold.accounts.caseless import table_ready

# The HMAC's salt: a digest made for token bindings is good for nothing else.
BINDING_KEY_SALT = "authfold.accounts.token_revocation.password_digest"


def password_digest(password_hash, secret=None, salt=BINDING_KEY_SALT):
    """The keyed digest of a stored password hash that a token (or, with another ``salt``, an
    email confirmation key) is bound to (``SECRET_KEY``'s, or ``secret``'s)."""
    return salted_hmac(salt, password_hash, secret=secret, algorithm="sha256").hexdigest()


def digest_matches(bound_digest, password_hash, salt=BINDING_KEY_SALT):
    """Whether ``bound_digest`` is ``password_hash``'s under ``SECRET_KEY`` or one of its
    ``SECRET_KEY_FALLBACKS`` (so rotating the key, as Django allows, ends no token)."""
    secrets = [None, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return any(
        constant_time_compare(bound_digest, password_digest(password_hash, secret, salt))
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


def connect_token_revocation():
    """Connect the bindings' receivers on ``Token`` (from ``AppConfig.ready``); nothing to do
    without ``rest_framework.authtoken``, the only tokens we know how to bind."""
    if not apps.is_installed("rest_framework.authtoken"):
        return
    from rest_framework.authtoken.models import Token

    post_save.connect(bind_new_token, sender=Token, dispatch_uid="authfold-token-bind")
    post_delete.connect(unbind_deleted_token, sender=Token, dispatch_uid="authfold-token-unbind")


def delete_tokens(user_pk, using):
    """Delete every ``rest_framework.authtoken`` token of the user (when that app is installed)."""
    if not apps.is_installed("rest_framework.authtoken"):
        return
    from rest_framework.authtoken.models import Token

    Token.objects.using(using).filter(user_id=user_pk).delete()
