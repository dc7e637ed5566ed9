"""DRF token authentication that ends a token when its user's password hash changes, by any path.

Django ends a session whose password hash changed (``get_session_auth_hash()``); a DRF token is
a password that never expires and knows nothing of the hash. Each token is bound to the hash it
was issued under (``authfold.accounts.models.TokenBinding``), and this class compares, in the
same single query that finds the token and its user.
"""

from django.db import router
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from authfold.accounts.caseless import table_ready
from authfold.accounts.models import TokenBinding
from authfold.accounts.token_revocation import bind_token, digest_matches, password_digest

TOKEN_ENDED_BY_PASSWORD = _(
    "This token ended when the account's password changed. Log in again for a new one."
)


class PasswordBoundTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` whose token dies with the password: 401, and the token is deleted,
    once the user's stored hash differs from the one the token was issued under."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        using = router.db_for_read(model)
        if not table_ready(TokenBinding, using):
            return super().authenticate_credentials(key)  # before migrate: nothing bound yet
        bound = TokenBinding.objects.filter(token_key=OuterRef("pk")).values("password_digest")
        try:
            token = (
                model.objects.using(using)
                .select_related("user")
                .annotate(bound_digest=Subquery(bound[:1]))
                .get(key=key)
            )
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token.bound_digest is None:
            # Issued around save() (bulk_create, raw SQL): bound to the hash it is first seen with.
            bind_token(token, router.db_for_write(model))
        elif not digest_matches(token.bound_digest, token.user.password):
            token.delete()
            raise exceptions.AuthenticationFailed(TOKEN_ENDED_BY_PASSWORD)
        elif token.bound_digest != password_digest(token.user.password):
            bind_token(token, router.db_for_write(model))  # made with a SECRET_KEY now retired
        return (token.user, token)


class PasswordBoundTokenMixin:
    """For an API view that uses the project's authentication classes: DRF's plain
    ``TokenAuthentication`` among them is replaced by :class:`PasswordBoundTokenAuthentication`
    (the project's other choices stay as they are)."""

    def get_authenticators(self):
        return [
            PasswordBoundTokenAuthentication()
            if type(authenticator) is TokenAuthentication
            else authenticator
            for authenticator in super().get_authenticators()
        ]
