"""DRF serializers for accounts: the public view of a user, registration and the profile edit.

The rule for usernames and emails lives in :mod:`authfold.accounts.validators`; these serializers only
compose it, so the API refuses exactly what the forms and the admin refuse, with the same codes.
"""

from contextlib import contextmanager

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.fields import get_error_detail

from authfold.accounts.account_updates import update_account
from authfold.accounts.email_verification import (
    MAIL_LIMIT,
    PASSWORD_INCORRECT,
    PASSWORD_REQUIRED,
    account_may_cause_mail,
    changes_email,
    email_confirmed,
    enumeration_prevented,
    start_verification,
    tell_address_holder,
)
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.user_model import form_user_model
from authfold.accounts.validators import (
    EMAIL_REQUIRED,
    OVER_LENGTH_CODES,
    address_held_by_other,
    clean_new_email,
    clean_new_username,
    conflict_error,
    validate_username_not_an_address,
)

# The model the key table is for (see form_user_model), not whatever AUTH_USER_MODEL a test has
# swapped in when this module is first imported.
User = form_user_model()

# Django itself bounded passwords at 4096 characters until its hashers stopped needing it
# (CVE-2013-1443); nothing real is longer, and a bound keeps every request's work small.
PASSWORD_MAX_LENGTH = 4096


class StrictCharField(serializers.CharField):
    """A CharField that accepts JSON strings only.

    DRF's CharField turns numbers into strings (``{"username": 123}`` would sign up ``"123"``);
    a client that sends a number, boolean, list or object for a text field has a bug we should
    report, not guess around. NUL bytes and lone surrogates are refused by DRF's own validators.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def field_refusal(field, message, code, params=None):
    """A 400 naming one field, with the message and code the validators use for the same rule."""
    error = DjangoValidationError(message, code=code, params=params)
    return serializers.ValidationError({field: get_error_detail(error)})


def refuse_username_as_address(username, own_email):
    """The username's refusal (400 on ``username``) when it is an address not the account's own."""
    try:
        validate_username_not_an_address(username, own_email)
    except DjangoValidationError as error:
        raise serializers.ValidationError({"username": get_error_detail(error)}) from error


@contextmanager
def refusing_lost_races(username):
    """Saves inside a transaction; a save the database refuses because another account took the
    name (or email) since validation becomes the 400 the validator would have given.

    :mod:`authfold.accounts.keys` reports every such refusal as a ``CaselessConflict``: by our caseless
    key, by ``auth_user``'s own index (the very same name twice at once), or by InnoDB's deadlock
    between such inserts.
    """
    try:
        with transaction.atomic():
            yield
    except CaselessConflict as conflict:
        raise conflict_refusal(conflict, username) from conflict


def conflict_refusal(conflict, username=None):
    """The 400 for a ``CaselessConflict``: the field it names, with the validators' message and code."""
    return serializers.ValidationError(get_error_detail(conflict_error(conflict, username)))


class SignedUpSerializer(serializers.Serializer):
    """The answer to a sign-up under enumeration prevention, the same whether the address was
    free or another account's: no id and no token (log in for one)."""

    username = serializers.CharField()
    email = serializers.CharField()
    email_confirmed = serializers.BooleanField(
        help_text=_("Always false: the address waits for the link mailed to it.")
    )
    detail = serializers.CharField(
        help_text=_("What happens next: follow the link mailed to the address, then log in.")
    )


class EmailConfirmedField(serializers.BooleanField):
    """Read-only: ``false`` while the account's address waits for the link mailed to it
    (an :class:`~authfold.accounts.models.UnconfirmedEmail` row), else ``true``."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            _(
                "False while the email waits for the confirmation link mailed to it (with "
                "mandatory verification it logs in to nothing until then); "
                "POST /api/users/me/email/resend/ mails a new link."
            ),
        )
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, user):
        return email_confirmed(user)


class UserSerializer(serializers.ModelSerializer):
    """The public view of an account: id, username, email."""

    # A plain string, not "format: email": a legacy account may still have a blank one.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email"]
        read_only_fields = ["id", "username", "email"]


class RegistrationSerializer(serializers.ModelSerializer):
    """A sign-up: username, email and password in; the new account and its API token out.

    The password is write-only and goes through ``AUTH_PASSWORD_VALIDATORS`` with the would-be
    user's username and email, so the similarity check works. Every field's errors come back
    together, so a person fixes the form once.
    """

    username = StrictCharField(help_text=_("Unique in any case: “Maria” and “maria” are one name."))
    email = StrictCharField(
        allow_blank=True, help_text=_("Required, and unique among accounts in any case.")
    )
    password = StrictCharField(
        write_only=True,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        help_text=_("Checked by the site's password validators; never returned."),
    )
    token = serializers.CharField(
        source="auth_token.key",
        read_only=True,
        help_text=_("The new account's API token: send it as “Authorization: Token <token>”."),
    )
    email_confirmed = EmailConfirmedField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "email_confirmed", "password", "token"]
        read_only_fields = ["id"]

    #: Set when the username or email was refused for its length (see ``validate_password``).
    identity_over_length = False

    def validate_username(self, username):
        return self.noting_over_length(clean_new_username, username)

    def validate_email(self, email):
        return self.noting_over_length(self.clean_new_email, email)

    #: Set when, under enumeration prevention, another account holds the address: the sign-up
    #: is answered as any other, and that mailbox told (see RegistrationView).
    address_held = False

    def clean_new_email(self, email):
        if not enumeration_prevented():
            return clean_new_email(email)
        email = clean_new_email(email, unclaimed=False)
        self.address_held = address_held_by_other(email)
        return email

    def noting_over_length(self, clean, value):
        """``clean(value)``, noting a refusal for length before it propagates."""
        try:
            return clean(value)
        except DjangoValidationError as error:
            if OVER_LENGTH_CODES & {item.code for item in error.error_list}:
                self.identity_over_length = True
            raise

    def validate_password(self, password):
        # DRF validates the fields in their declared order, so the username and email are
        # checked by now. One over its length has refused the sign-up already, and would cost
        # the similarity validator seconds (megabytes of one-letter parts): skip the validators.
        if not self.identity_over_length:
            password_validation.validate_password(password, self.would_be_user())
        return password

    def would_be_user(self):
        """An unsaved user with the submitted username and email, for the similarity check."""
        submitted = {field: self.initial_data.get(field) for field in ("username", "email")}
        return User(
            **{field: value for field, value in submitted.items() if isinstance(value, str)}
        )

    def validate(self, attrs):
        refuse_username_as_address(attrs["username"], attrs["email"])
        return attrs

    def create(self, validated_data):
        """The new account; an unsaved one when, under enumeration prevention, another account
        holds the address (then nothing is made, and that mailbox is told)."""
        request = self.context.get("request")
        unsaved = User(username=validated_data["username"], email=validated_data["email"])
        if self.address_held:
            tell_address_holder(validated_data["email"], request)
            return unsaved
        try:
            return self.create_account(validated_data)
        except serializers.ValidationError as refusal:
            if not (enumeration_prevented() and "email" in refusal.detail):
                raise
            tell_address_holder(validated_data["email"], request)
            return unsaved

    def create_account(self, validated_data):
        with refusing_lost_races(validated_data["username"]):
            user = User.objects.create_user(**validated_data)
            Token.objects.create(user=user)
            start_verification(user, self.context["request"])
        return user


class CurrentUserSerializer(serializers.ModelSerializer):
    """The signed-in account's own username and email, editable under the same rule as sign-up.

    An account may change the case of its own name (``maria`` to ``Maria``). An account that has
    no email yet (a legacy one) must add one with its first change. A new email needs the current
    password: a stolen token or session must not be able to move the account's password resets
    to another mailbox. With email verification on, the new address waits for its confirmation
    link (``pending_email``) and ``email`` stays what it was; sending the current ``email``
    again cancels the pending change. Only the fields sent are written, onto the row as stored
    (:mod:`authfold.accounts.account_updates`).
    """

    username = StrictCharField(
        required=False, help_text=_("Unique in any case; your own name in another case is fine.")
    )
    email = StrictCharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "Required, and unique among accounts in any case. Changing it needs "
            "current_password; with email verification on, the new address is pending until "
            "the link mailed to it is followed."
        ),
    )
    pending_email = serializers.EmailField(
        source="pending_email_change.email",
        read_only=True,
        allow_null=True,
        help_text=_(
            "The new address waiting for its confirmation link, or null; it becomes the email "
            "once confirmed (POST /api/auth/email/confirm/)."
        ),
    )
    email_confirmed = EmailConfirmedField()
    current_password = StrictCharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        help_text=_("Your password: required when the email changes, ignored otherwise."),
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "email_confirmed",
            "pending_email",
            "current_password",
        ]
        read_only_fields = ["id"]

    def validate_username(self, username):
        return clean_new_username(username, exclude_pk=self.instance.pk)

    #: As on RegistrationSerializer: a held address is answered as pending, its mailbox told.
    address_held = False

    def validate_email(self, email):
        if not enumeration_prevented():
            return clean_new_email(email, exclude_pk=self.instance.pk)
        email = clean_new_email(email, exclude_pk=self.instance.pk, unclaimed=False)
        self.address_held = address_held_by_other(email, exclude_pk=self.instance.pk)
        return email

    def validate(self, attrs):
        if not attrs.get("email", self.instance.email):
            raise field_refusal("email", EMAIL_REQUIRED, "email_required")
        if "username" in attrs and attrs["username"] != self.instance.username:
            refuse_username_as_address(attrs["username"], attrs.get("email", self.instance.email))
        if "email" in attrs and changes_email(self.instance.email, attrs["email"]):
            self.check_current_password(attrs.get("current_password"))
            if not account_may_cause_mail(self.instance):
                raise field_refusal("email", MAIL_LIMIT, "mail_limit")
        return attrs

    def check_current_password(self, password):
        """Refuses a missing or wrong password (``password_required``, ``password_incorrect``)."""
        if not password:
            raise field_refusal("current_password", PASSWORD_REQUIRED, "password_required")
        if not self.instance.check_password(password):
            raise field_refusal("current_password", PASSWORD_INCORRECT, "password_incorrect")

    def update(self, instance, validated_data):
        validated_data.pop("current_password", None)
        with refusing_lost_races(validated_data.get("username", instance.username)):
            user, _pending = update_account(
                instance.pk,
                validated_data,
                self.context.get("request"),
                address_held=self.address_held,
            )
        return user
