"""API views for accounts: registration (``/api/users/``) and the current user (``/api/users/me/``)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import APIView

from authfold.accounts.api.authentication import PasswordBoundTokenMixin
from authfold.accounts.api.body_limit import BodyLimitMixin
from authfold.accounts.api.errors import (
    BODY_TOO_LARGE,
    CurrentUserErrorSerializer,
    DetailErrorSerializer,
    RegistrationErrorSerializer,
)
from authfold.accounts.api.parsers import ACCOUNT_API_PARSERS
from authfold.accounts.conf import SIGNUP_CLOSED, authfold_setting
from authfold.accounts.email_verification import (
    SIGNED_UP,
    enumeration_prevented,
    resend_confirmation,
)
from authfold.accounts.serializers import (
    CurrentUserSerializer,
    RegistrationSerializer,
    SignedUpSerializer,
)
from authfold.accounts.throttling import (
    ScopedRateThrottle,
    SignUpThrottle,
    WriteScopedRateThrottle,
    retry_after,
)

UNAUTHENTICATED = OpenApiResponse(
    DetailErrorSerializer, description=_("No valid token (or session) came with the request.")
)
CSRF_REFUSED = OpenApiResponse(
    DetailErrorSerializer,
    description=_("A session-authenticated request without its CSRF token."),
)
THROTTLED = OpenApiResponse(
    DetailErrorSerializer,
    description=_("Too many requests from this client; the Retry-After header says when to retry."),
)


class SignUpOpen(permissions.BasePermission):
    """Lets sign-ups through while ``AUTHFOLD_SIGNUP_OPEN`` is on (read on each request)."""

    message = SIGNUP_CLOSED
    code = "signup_closed"

    def has_permission(self, request, view):
        return bool(authfold_setting("AUTHFOLD_SIGNUP_OPEN"))


@extend_schema_view(
    post=extend_schema(
        summary=_("Create an account"),
        description=format_lazy(
            "{} {}",
            _(
                "Sign up with a username, email and password; the answer carries the new "
                "account's API token. Usernames and emails are unique in any case. Throttled per "
                "client address: requests (scope “register_attempt”) and accounts created (scope "
                "“register”)."
            ),
            _(
                "Under enumeration prevention (on by default with mandatory verification) every "
                "accepted sign-up is answered alike, without id or token, whether its address was "
                "free or another account's: log in for a token."
            ),
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="SignUpAnswer",
                serializers=[RegistrationSerializer, SignedUpSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            400: OpenApiResponse(
                RegistrationErrorSerializer,
                description=_("Some field was refused; nothing was created."),
            ),
            403: OpenApiResponse(
                DetailErrorSerializer,
                description=_("Sign-up is closed on this site (AUTHFOLD_SIGNUP_OPEN is off)."),
            ),
            413: BODY_TOO_LARGE,
            429: THROTTLED,
        },
    )
)
class RegistrationView(BodyLimitMixin, generics.CreateAPIView):
    """``POST /api/users/``: sign up with a username, email and password; get an API token back.

    Anyone may call it while sign-up is open: credentials sent along are ignored, so a stale token
    cannot block a sign-up. Throttled per client address: requests (scope ``register_attempt``)
    and accounts created (scope ``register``). Under enumeration prevention every accepted
    sign-up gets the same answer, without id or token, whether its address was free or another
    account's (then nothing is made).
    """

    serializer_class = RegistrationSerializer
    parser_classes = ACCOUNT_API_PARSERS
    authentication_classes = []
    permission_classes = [SignUpOpen]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register_attempt"

    def create(self, request, *args, **kwargs):
        sign_ups = SignUpThrottle(request)
        if not sign_ups.allows_another_try():
            raise Throttled(wait=retry_after(sign_ups))
        response = self.sign_up(request, *args, **kwargs)
        sign_ups.record()
        return response

    def sign_up(self, request, *args, **kwargs):
        """The 201 answer: the account and its token, or, under enumeration prevention, the
        answer every accepted sign-up gets (and counts toward ``register``) alike."""
        if not enumeration_prevented():
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        email = serializer.validated_data["email"]
        answer = {
            "username": serializer.validated_data["username"],
            "email": email,
            "email_confirmed": False,
        }
        answer["detail"] = str(SIGNED_UP % {"email": email})
        return Response(SignedUpSerializer(answer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary=_("Show your account"),
        description=_(
            "The account the token (or session) belongs to, with the new address waiting for "
            "its confirmation link, if any (pending_email)."
        ),
        responses={200: CurrentUserSerializer, 401: UNAUTHENTICATED},
    ),
    patch=extend_schema(
        summary=_("Change your username or email"),
        description=_(
            "Send only what changes. The same rule as sign-up applies; changing the case of your "
            "own username is allowed. An account without an email must add one. A new email "
            "needs current_password; with email verification on, it stays pending_email (and "
            "email unchanged) until the link mailed to it is followed, and the old address is "
            "told once it changes. Throttled per account (scope “profile”)."
        ),
        responses={
            200: CurrentUserSerializer,
            400: OpenApiResponse(
                CurrentUserErrorSerializer,
                description=_("Some field was refused; nothing was changed."),
            ),
            401: UNAUTHENTICATED,
            403: CSRF_REFUSED,
            413: BODY_TOO_LARGE,
            429: THROTTLED,
        },
    ),
)
class CurrentUserView(PasswordBoundTokenMixin, BodyLimitMixin, generics.RetrieveUpdateAPIView):
    """``/api/users/me/``: the authenticated account; PATCH changes its username or email.

    Changes are throttled per account by the ``profile`` scope, since each refused name tells the
    caller that an account has it; reading is not.
    """

    serializer_class = CurrentUserSerializer
    parser_classes = ACCOUNT_API_PARSERS
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [WriteScopedRateThrottle]
    throttle_scope = "profile"
    # PUT would demand every field again for no gain; PATCH says what changes.
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class EmailResendView(PasswordBoundTokenMixin, BodyLimitMixin, APIView):
    """``POST /api/users/me/email/resend/``: mails a new confirmation link for the account's
    pending change, else for its unconfirmed address; every earlier link stops working.

    Throttled per account by the ``email_resend`` scope (one every three minutes unless the
    project sets a rate): each request sends a mail.
    """

    parser_classes = ACCOUNT_API_PARSERS
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "email_resend"

    @extend_schema(
        operation_id="users_me_email_resend",
        summary=_("Send the confirmation link again"),
        description=_(
            "Mails a new link to the address waiting for confirmation: the pending change if "
            "there is one, else the account's unconfirmed email. Earlier links stop working. "
            "Throttled per account (scope “email_resend”, one every three minutes by default)."
        ),
        request=None,
        responses={
            202: OpenApiResponse(
                inline_serializer("ConfirmationResent", {"email": serializers.EmailField()}),
                description=_("A new link is on its way to this address."),
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "ConfirmationResendError",
                    {"email": serializers.ListField(child=serializers.CharField())},
                ),
                description=_("No address of the account waits for a link (nothing_to_confirm)."),
            ),
            401: UNAUTHENTICATED,
            403: CSRF_REFUSED,
            413: BODY_TOO_LARGE,
            429: THROTTLED,
        },
    )
    def post(self, request):
        try:
            address = resend_confirmation(request.user.pk, request)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"email": get_error_detail(error)}) from error
        return Response({"email": address}, status=202)
