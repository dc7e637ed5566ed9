"""``POST /api/auth/email/confirm/``: the key from a confirmation mail makes its address the
account's email. No login: the key is the proof, and only the mailbox it was sent to has it."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from authfold.accounts.api.body_limit import BodyLimitMixin
from authfold.accounts.api.errors import (
    BODY_TOO_LARGE,
    DetailErrorSerializer,
    EmailConfirmErrorSerializer,
)
from authfold.accounts.api.parsers import ACCOUNT_API_PARSERS
from authfold.accounts.email_verification import confirm_email
from authfold.accounts.serializers import StrictCharField
from authfold.accounts.throttling import ScopedRateThrottle

# Far above any key we sign (an account id, a 254-character address, a time, a signature).
KEY_MAX_LENGTH = 1000


class EmailConfirmSerializer(serializers.Serializer):
    """The key, as the confirmation mail's link carries it."""

    key = StrictCharField(
        max_length=KEY_MAX_LENGTH,
        help_text=_("The key from the confirmation mail (the last part of its link)."),
    )


class EmailConfirmView(BodyLimitMixin, APIView):
    """Confirms an address; a refused key or an address taken meanwhile is a 400 with its code.

    Throttled per client address (scope ``email_confirm``).
    """

    authentication_classes = []  # the key is the proof; no session, so no CSRF check
    parser_classes = ACCOUNT_API_PARSERS
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "email_confirm"

    @extend_schema(
        operation_id="auth_email_confirm",
        summary=_("Confirm an email address"),
        description=_(
            "Send the key from the confirmation mail: a pending change becomes the account's "
            "email (the old address is told), or a new account's address counts as confirmed. "
            "No login needed. Throttled per client address (scope “email_confirm”)."
        ),
        request=EmailConfirmSerializer,
        responses={
            200: OpenApiResponse(
                inline_serializer("EmailConfirmed", {"email": serializers.EmailField()}),
                description=_("The address is now the account's confirmed email."),
            ),
            400: OpenApiResponse(
                EmailConfirmErrorSerializer,
                description=_("The key was refused, or the address was taken meanwhile."),
            ),
            413: BODY_TOO_LARGE,
            429: OpenApiResponse(
                DetailErrorSerializer,
                description=_("Too many confirmations from this client; see Retry-After."),
            ),
        },
        auth=[],
    )
    def post(self, request):
        serializer = EmailConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = confirm_email(serializer.validated_data["key"], request)
        except DjangoValidationError as error:
            codes = {item.code for item in error.error_list}
            field = "key" if codes & {"key_invalid", "key_expired"} else "email"
            raise serializers.ValidationError({field: get_error_detail(error)}) from error
        return Response({"email": user.email})
