"""``POST /api/auth/token/``: trade a username (any case) or email and a password for a DRF token;
``POST /api/auth/logout/``: delete the token the request came with."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from authfold.accounts.api.authentication import PasswordBoundTokenAuthentication
from authfold.accounts.api.body_limit import BodyLimitMixin
from authfold.accounts.api.errors import BODY_TOO_LARGE, DetailErrorSerializer
from authfold.accounts.api.parsers import ACCOUNT_API_PARSERS
from authfold.accounts.conf import authfold_setting
from authfold.accounts.email_verification import confirmation_required_to_log_in
from authfold.accounts.login import (
    EMAIL_UNCONFIRMED,
    announce_renamed_login,
    unconfirmed_email_login,
    with_unconfirmed_hint,
)
from authfold.accounts.throttling import FailedLoginThrottle, ScopedRateThrottle
from authfold.accounts.token_revocation import issue_token

INVALID_LOGIN = _(
    "Unable to log in with the username (in any case) or email and the password provided. "
    "Passwords are case-sensitive."
)


class TokenLoginSerializer(serializers.Serializer):
    """Credentials in, the authenticated user out; every refusal is the same generic error."""

    username = serializers.CharField(write_only=True, max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=4096)

    def validate(self, attrs):
        # authenticate() runs every backend, so the caseless lookup, the inactive check and the
        # timing guard all apply; a wrong password, an unknown or inactive user look the same.
        request = self.context.get("request")
        user = authenticate(
            # Django's HttpRequest, not DRF's wrapper: what a backend marks on the request (the
            # lockout flag django-axes' middleware turns into its 429) must reach the middleware.
            request=getattr(request, "_request", request),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            if unconfirmed_email_login(getattr(request, "_request", request)):
                raise serializers.ValidationError(EMAIL_UNCONFIRMED, code="email_unconfirmed")
            raise serializers.ValidationError(invalid_login_message(), code="invalid_login")
        return {"user": user}


def invalid_login_message():
    """The generic refusal; while a sign-up's address must be confirmed before it logs in, with a
    hint at that (which tells nobody whether an address exists)."""
    if confirmation_required_to_log_in() and authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL"):
        return with_unconfirmed_hint(INVALID_LOGIN)
    return INVALID_LOGIN


class TokenLoginView(BodyLimitMixin, APIView):
    """Log in through the API: answers the account's token, the same one for every case variant,
    and the account's username as it is stored now."""

    authentication_classes = []  # credentials come in the body; no session, so no CSRF check
    parser_classes = ACCOUNT_API_PARSERS
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenLoginSerializer,
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "AuthToken",
                    {"token": serializers.CharField(), "username": serializers.CharField()},
                ),
                description="The account's token and its current username, which differs from "
                "the one sent after a login with an old username conflict resolution renamed "
                "away (the client should tell the person, and use the new one from then on).",
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "LoginError",
                    {
                        field: serializers.ListField(child=serializers.CharField(), required=False)
                        for field in ("non_field_errors", "username", "password")
                    },
                ),
                description="Wrong password, unknown or inactive account (one generic message "
                "in non_field_errors, code invalid_login), an email address still waiting for "
                "its confirmation link (email_unconfirmed, only where "
                "AUTHFOLD_PREVENT_ENUMERATION is off), or a missing field.",
            ),
            413: BODY_TOO_LARGE,
            429: OpenApiResponse(
                inline_serializer("LoginThrottled", {"detail": serializers.CharField()}),
                description="Too many login attempts from this client (throttle scope `login`), "
                "or too many failed ones for this account (scope `login_account`).",
            ),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenLoginSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # The backend refused without checking the password: too many failures for the account.
            seconds = getattr(request._request, FailedLoginThrottle.REFUSED_ATTRIBUTE, None)
            if seconds is not None:
                raise Throttled(seconds)
            raise serializers.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token = issue_token(user)
        # The current name: a client that sent a renamed account's old username learns the new
        # one, and the host hears of it as from the login pages.
        announce_renamed_login(request._request, user)
        return Response({"token": token.key, "username": user.get_username()})


class TokenLogoutView(BodyLimitMixin, APIView):
    """Log out of the API: the token the request came with is deleted, so it never works again.

    Token authentication only: a browser session has no token to delete (it logs out on the web).
    The account's next ``POST /api/auth/token/`` makes a new token.
    """

    authentication_classes = [PasswordBoundTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        summary=_("Log out: delete your token"),
        request=None,
        responses={
            204: OpenApiResponse(description=_("The token is deleted; it now answers 401.")),
            401: OpenApiResponse(
                DetailErrorSerializer, description=_("No valid token came with the request.")
            ),
            413: BODY_TOO_LARGE,
        },
    )
    def post(self, request):
        request.auth.delete()
        return Response(status=204)
