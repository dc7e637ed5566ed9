"""The rule for new or changed usernames and emails, one small validator per threat.

Forms, serializers and the admin only compose these. Each raises ``ValidationError`` with a stable
``code`` (so callers and tests match the code, not the wording) and a message a person can act on.
Uniqueness is decided by :mod:`authfold.accounts.caseless` and nothing else.
"""

from confusable_homoglyphs import confusables
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from authfold.accounts.caseless import (
    normalize_username,
    skeleton_digest,
    skeleton_digests_ready,
    username_key,
    users_with_email,
    users_with_username,
)
from authfold.accounts.conf import authfold_setting
from authfold.accounts.reserved_names import DEFAULT_RESERVED_USERNAMES
from authfold.accounts.user_model import keyed_user_model

USERNAME_TAKEN = _(
    "This username is taken. Usernames ignore case, so “%(username)s” counts as the same name."
)
USERNAME_TOO_LONG = _("Usernames can have at most %(limit)d characters; this one has %(length)d.")
USERNAME_CONFUSABLE = _(
    "This username mixes alphabets with look-alike letters (for example a Cyrillic “а” among "
    "Latin letters). Please use letters from one alphabet."
)
USERNAME_LOOKALIKE = _(
    "This username looks like another account's (“%(username)s” differs from it only in "
    "accents or look-alike letters). Please choose a name that looks different."
)
USERNAME_RESERVED = _("This username is reserved. Please choose another.")
EMAIL_REQUIRED = _("An email address is required.")
EMAIL_TOO_LONG = _(
    "Email addresses can have at most %(limit)d characters; this one has %(length)d."
)
EMAIL_TAKEN = _(
    "Another account already uses this email address (in some case). Log in to that account, or use another address."
)


def max_length(field_name):
    """The user model's length limit for a field, looked up when a value is checked."""
    return keyed_user_model()._meta.get_field(field_name).max_length


def username_syntax_validator():
    """Django's own username validator: Unicode by default, ASCII-only when the project asks."""
    if authfold_setting("AUTHFOLD_ASCII_USERNAMES"):
        return ASCIIUsernameValidator()
    return UnicodeUsernameValidator()


def validate_username_length(username):
    """At most the model's 150 characters, counted after NFKC (what is stored)."""
    limit = max_length("username")
    if len(username) > limit:
        raise ValidationError(
            USERNAME_TOO_LONG,
            code="username_too_long",
            params={"limit": limit, "length": len(username)},
        )


def validate_username_not_confusable(username):
    """Refuses homograph usernames: mixed scripts with look-alike letters (``pаypal``)."""
    if confusables.is_dangerous(username):
        raise ValidationError(USERNAME_CONFUSABLE, code="username_confusable")


def reserved_username_keys():
    """The keys of the reserved usernames, or none when the project has not turned the list on."""
    reserved = authfold_setting("AUTHFOLD_RESERVED_USERNAMES")
    if reserved is True:
        reserved = DEFAULT_RESERVED_USERNAMES
    return {username_key(name) for name in reserved or ()}


def validate_username_not_reserved(username):
    """Refuses names that impersonate the site (``admin``, ``support``), in any case."""
    if username_key(username) in reserved_username_keys():
        raise ValidationError(USERNAME_RESERVED, code="username_reserved")


def validate_username_available(username, exclude_pk=None):
    """Refuses a username some other account already has in any case (the account itself may
    change the case of its own name: ``maria`` may become ``Maria``)."""
    twins = users_with_username(keyed_user_model()._default_manager.all(), username)
    if exclude_pk is not None:
        twins = twins.exclude(pk=exclude_pk)
    if twins.exists():
        raise ValidationError(USERNAME_TAKEN, code="username_taken", params={"username": username})


def validate_username_not_lookalike(username, exclude_pk=None):
    """With ``AUTHFOLD_REFUSE_LOOKALIKES``, refuses a name that looks like another account's: the
    same UTS #39 skeleton (``maría``, ``marıa`` or ``mɑria`` beside ``maria``; Cyrillic
    ``раураӏ`` beside ``paypal``). One probe of the skeleton digest's index, joined to the user
    by primary key as the username check is (so a dead key row never holds a name)."""
    if not authfold_setting("AUTHFOLD_REFUSE_LOOKALIKES"):
        return
    users = keyed_user_model()._default_manager.all()
    if not skeleton_digests_ready(users.db):
        return  # before migrate (0006): no skeleton digests to compare with yet
    lookalikes = users.filter(caseless_key__skeleton_digest=skeleton_digest(username))
    if exclude_pk is not None:
        lookalikes = lookalikes.exclude(pk=exclude_pk)
    if lookalikes.exists():
        raise ValidationError(
            USERNAME_LOOKALIKE, code="username_lookalike", params={"username": username}
        )


def clean_new_username(username, exclude_pk=None):
    """The NFKC form of a new or changed username, after every rule; raises all errors at once.

    A name over the length limit is refused on that alone: the other rules would add nothing a
    person needs, and the confusables check costs time in proportion to the length (a request
    body can carry megabytes).
    """
    username = normalize_username(username)
    validate_username_length(username)
    errors = []
    for validator in (
        username_syntax_validator(),
        validate_username_not_confusable,
        validate_username_not_reserved,
    ):
        try:
            validator(username)
        except ValidationError as error:
            errors.extend(error.error_list)
    if not errors:
        try:
            validate_username_available(username, exclude_pk)
            validate_username_not_lookalike(username, exclude_pk)
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return username


def validate_email_length(email):
    """At most the model's 254 characters, counted after normalising: lowercasing the domain can
    lengthen it (``İ`` becomes two characters), and the database refuses what does not fit."""
    limit = max_length("email")
    if len(email) > limit:
        raise ValidationError(
            EMAIL_TOO_LONG,
            code="email_too_long",
            params={"limit": limit, "length": len(email)},
        )


def validate_email_available(email, exclude_pk=None):
    """Refuses an email some other account already has, in any case."""
    owners = users_with_email(keyed_user_model()._default_manager.all(), email)
    if exclude_pk is not None:
        owners = owners.exclude(pk=exclude_pk)
    if owners.exists():
        raise ValidationError(EMAIL_TAKEN, code="email_taken")


def clean_new_email(email, exclude_pk=None):
    """A present, valid, caselessly unique email, its domain lowercased as Django does."""
    email = (email or "").strip()
    if not email:
        raise ValidationError(EMAIL_REQUIRED, code="email_required")
    email = BaseUserManager.normalize_email(email)
    validate_email_length(email)
    validate_email(email)
    validate_email_available(email, exclude_pk)
    return email


def conflict_error(conflict, username=None):
    """The error the checks above would have raised, for a save the database refused because
    another account took the name or address meanwhile (an ``authfold.accounts.keys.CaselessConflict``,
    which names its ``field``); keyed by that field.

    ``username``: the name to quote when the refusal could not tell which one was refused.
    """
    if conflict.field == "email":
        error = ValidationError(EMAIL_TAKEN, code="email_taken")
    else:
        error = ValidationError(
            USERNAME_TAKEN,
            code="username_taken",
            params={"username": conflict.value or username},
        )
    return ValidationError({conflict.field: error})
