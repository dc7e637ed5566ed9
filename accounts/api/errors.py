"""The bodies of the API's error responses, as serializers, so the OpenAPI schema declares them.

Validation errors are ``{field: [messages]}`` (HTTP 400); everything else (a body that is not
JSON, missing credentials, throttling) is DRF's ``{"detail": message}``.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


def messages(help_text):
    return serializers.ListField(child=serializers.CharField(), required=False, help_text=help_text)


class DetailErrorSerializer(serializers.Serializer):
    """A refusal that is about the request as a whole (401, 403, 429, unreadable body)."""

    detail = serializers.CharField(help_text=_("What went wrong, for a person to read."))


class RegistrationErrorSerializer(serializers.Serializer):
    """A refused sign-up: the messages for each field that needs fixing."""

    username = messages(_("Why the username was refused (taken in any case, too long, ...)."))
    email = messages(_("Why the email was refused (missing, invalid, taken in any case)."))
    password = messages(_("Why the password was refused (too short, too common, ...)."))
    non_field_errors = messages(_("Refusals of the body as a whole (not a JSON object)."))
    detail = serializers.CharField(
        required=False, help_text=_("The body could not be read (malformed JSON).")
    )


class CurrentUserErrorSerializer(serializers.Serializer):
    """A refused profile edit: the messages for each field that needs fixing."""

    username = messages(_("Why the new username was refused (taken in any case, too long, ...)."))
    email = messages(_("Why the new email was refused (missing, invalid, taken in any case)."))
    current_password = messages(
        _("A new email needs the current password: missing or incorrect (nothing changed).")
    )
    non_field_errors = messages(_("Refusals of the body as a whole (not a JSON object)."))
    detail = serializers.CharField(
        required=False, help_text=_("The body could not be read (malformed JSON).")
    )


class EmailConfirmErrorSerializer(serializers.Serializer):
    """A refused email confirmation: the key, or the address it confirms."""

    key = messages(
        _("Why the key was refused (key_invalid: used, replaced or mangled; key_expired).")
    )
    email = messages(
        _("The address was taken by another account since it was asked for (email_taken).")
    )
    non_field_errors = messages(_("Refusals of the body as a whole (not a JSON object)."))
    detail = serializers.CharField(
        required=False, help_text=_("The body could not be read (malformed JSON).")
    )


BODY_TOO_LARGE = OpenApiResponse(
    DetailErrorSerializer,
    description=_(
        "The body is larger than the site's DATA_UPLOAD_MAX_MEMORY_SIZE; it was not read."
    ),
)
