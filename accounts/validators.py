"""The rule for new or changed usernames and emails, one small validator per threat.

Forms, serializers and the admin only compose these. Each raises ``ValidationError`` with a stable
``code`` (so callers and tests match the code, not the wording) and a message a person can act on.
Uniqueness is decided by :mod:`authfold.accounts.caseless` and nothing else.
"""

import regex
from confusable_homoglyphs import confusables
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from authfold.accounts.caseless import (
    ascii_domain,
    assigned_in_pinned_unicode,
    email_key,
    has_deviation_character,
    normalize_username,
    skeleton_digest,
    skeleton_digests_ready,
    unicode_domain,
    unquoted_email,
    username_key,
    users_with_email,
    users_with_username,
    users_with_username_spelling_email,
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
USERNAME_INVISIBLE = _(
    "This username contains an invisible character (such as a zero-width space or a Hangul "
    "filler). Please type it again without it."
)
USERNAME_IS_EMAIL_OF_OTHER = _(
    "This username is another account's email address. Please choose another username."
)
USERNAME_IS_ADDRESS = _(
    "Email addresses log in here, so a username cannot be an email address other than your "
    "own. Please choose another username."
)
EMAIL_REQUIRED = _("An email address is required.")
EMAIL_INVISIBLE = _(
    "This email address contains an invisible character (such as a soft hyphen or a zero-width "
    "space). Please type it again without it."
)
EMAIL_DOMAIN_CONFUSABLE = _(
    "The domain of this email address mixes alphabets with look-alike letters (for example a "
    "Cyrillic “а” among Latin letters). Please check the address."
)
EMAIL_DOMAIN_AMBIGUOUS = _(
    "Mail systems deliver the domain “%(domain)s” to two different places: it contains ß, ς or "
    "an invisible joiner, which some read as other letters. Please write the domain as "
    "“%(ascii_domain)s”."
)
EMAIL_DOMAIN_AMBIGUOUS_NO_FORM = _(
    "Mail systems deliver the domain “%(domain)s” to two different places: it contains ß, ς or "
    "an invisible joiner, which some read as other letters. Please type it again without them."
)
EMAIL_IS_USERNAME_OF_OTHER = _(
    "This email address is another account's username. Please use another address."
)
EMAIL_QUOTED_LOCAL_PART = _(
    "The part of this email address before the “@” uses quotes for characters a plain address "
    "cannot have (such as spaces or an “@”), and many mail systems do not deliver to such "
    "addresses. Please use an address without quotes."
)
EMAIL_INVALID_DOMAIN = _("Enter a valid email address.")
EMAIL_TOO_LONG = _(
    "Email addresses can have at most %(limit)d characters; this one has %(length)d."
)
EMAIL_TAKEN = _(
    "Another account already uses this email address (in some case). Log in to that account, or use another address."
)
# To someone already signed in, or changing an existing account: logging in elsewhere is no answer.
EMAIL_TAKEN_BY_ANOTHER_ACCOUNT = _(
    "Another account already uses this email address (in some case). Please use another address."
)

# The codes of a username or email refused for its length: ours, and a form field's own
# ``max_length``. Password validators never run beside one (a request body can carry megabytes,
# and the similarity validator's time grows with the name's parts).
OVER_LENGTH_CODES = frozenset({"username_too_long", "email_too_long", "max_length"})


def max_length(field_name):
    """The user model's length limit for a field, looked up when a value is checked."""
    return keyed_user_model()._meta.get_field(field_name).max_length


def username_syntax_validator():
    """Django's own username validator: Unicode by default, ASCII-only when the project asks."""
    if authfold_setting("AUTHFOLD_ASCII_USERNAMES"):
        return ASCIIUsernameValidator()
    return PinnedUnicodeUsernameValidator()


class PinnedUnicodeUsernameValidator(UnicodeUsernameValidator):
    """Django's Unicode username syntax as the Unicode version the key is pinned to reads it: a
    letter a newer Python knows but that version had not assigned (which the key would keep
    unfolded) is refused, with Django's own message, as Python 3.11 refuses it."""

    def __call__(self, value):
        super().__call__(value)
        value = str(value)
        if not value.isascii() and not all(map(assigned_in_pinned_unicode, value)):
            raise ValidationError(self.message, code=self.code, params={"value": value})


def validate_username_length(username):
    """At most the model's 150 characters, counted after NFKC (what is stored)."""
    limit = max_length("username")
    if len(username) > limit:
        raise ValidationError(
            USERNAME_TOO_LONG,
            code="username_too_long",
            params={"limit": limit, "length": len(username)},
        )


# Unicode's Default_Ignorable_Code_Point (what renders as nothing: zero-width characters, variation
# selectors, Hangul fillers, tags) and the format characters (Cf: soft hyphen, bidi controls).
INVISIBLE_CHARACTERS = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")


def has_invisible_character(text):
    """Whether ``text`` holds a character that shows nothing, so two spellings look the same."""
    return INVISIBLE_CHARACTERS.search(text) is not None


def validate_username_visible(username):
    """Refuses invisible characters: ``maria`` + U+3164 (a Hangul filler, a "letter" to Django's
    validator) looks exactly like ``maria`` on every page."""
    if has_invisible_character(username):
        raise ValidationError(USERNAME_INVISIBLE, code="username_invisible_character")


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


def validate_username_not_email_of_other(username, exclude_pk=None):
    """Refuses a username that is, caselessly, another account's email address: with login by
    email on, the backend finds a username first, so ``victim@example.com`` as a name would take
    that person's email login. The name is keyed as an email, to compare like with like."""
    if "@" not in username_key(username):
        return
    owners = users_with_email(keyed_user_model()._default_manager.all(), username)
    if exclude_pk is not None:
        owners = owners.exclude(pk=exclude_pk)
    if owners.exists():
        raise ValidationError(USERNAME_IS_EMAIL_OF_OTHER, code="username_is_email_of_other")


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


def validate_username_not_an_address(username, own_email):
    """While addresses log in (``AUTHFOLD_LOGIN_BY_EMAIL``), a new username shaped like an email
    address must be the account's own address (``own_email``).

    Such a name is typed where an address is, and sits beside the mailbox's real owner in every
    list: a sign-up named ``victim@example.com`` squats the victim's address as a login even
    before the victim has an account here (the claims keep it from logging in as her).
    """
    if not authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL") or "@" not in username:
        return
    try:
        validate_email(username)
    except ValidationError:
        return  # not shaped like an address
    if own_email and email_key(username) == email_key(own_email):
        return
    raise ValidationError(USERNAME_IS_ADDRESS, code="username_is_address")


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
        validate_username_visible,
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
            validate_username_not_email_of_other(username, exclude_pk)
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
        message = EMAIL_TAKEN if exclude_pk is None else EMAIL_TAKEN_BY_ANOTHER_ACCOUNT
        raise ValidationError(message, code="email_taken")


def validate_email_not_username_of_other(email, exclude_pk=None):
    """Refuses an address that is, caselessly, another account's username (in any of its
    spellings): with login by email on, that username would be found first and take the login."""
    owners = users_with_username_spelling_email(keyed_user_model()._default_manager.all(), email)
    if exclude_pk is not None:
        owners = owners.exclude(pk=exclude_pk)
    if owners.exists():
        raise ValidationError(EMAIL_IS_USERNAME_OF_OTHER, code="email_is_username_of_other")


def validate_email_unclaimed(email, exclude_pk=None):
    """No other account has this address, as its email or as its username."""
    validate_email_available(email, exclude_pk)
    validate_email_not_username_of_other(email, exclude_pk)


def validate_email_visible(email):
    """Refuses invisible characters: ``bob@example.com`` with a soft hyphen (U+00AD) in the domain
    looks like, and is delivered to, ``bob@example.com``."""
    if has_invisible_character(email):
        raise ValidationError(EMAIL_INVISIBLE, code="email_invisible_character")


def validate_email_domain_unambiguous(email):
    """Refuses a domain with an IDNA 2008 deviation character (ß, ς, ZWNJ, ZWJ): the address is
    keyed by its IDNA 2008 form (``faß.de`` is ``xn--fa-hia.de``), but Django's mailer encodes
    with IDNA 2003 and would send its mail to another domain's mailbox (``fass.de``)."""
    domain = email.rpartition("@")[2]
    if not has_deviation_character(domain):
        return
    encoded = ascii_domain(domain)
    if encoded is None:
        raise ValidationError(
            EMAIL_DOMAIN_AMBIGUOUS_NO_FORM, code="email_domain_ambiguous", params={"domain": domain}
        )
    raise ValidationError(
        EMAIL_DOMAIN_AMBIGUOUS,
        code="email_domain_ambiguous",
        params={"domain": domain, "ascii_domain": encoded},
    )


def validate_email_local_part_unquoted(email):
    """Refuses a quoted local part that needs its quotes (``"a b"@example.net``,
    ``"a@b"@x.net``): Django's validator accepts most of them, but many mailers, forms and people
    cannot write one, and each quoting of it would be a spelling of its own to key. (One that
    needs no quotes, ``"x"@example.net``, is ``x@example.net`` and is stored so.)"""
    if unquoted_email(email).startswith('"'):
        raise ValidationError(EMAIL_QUOTED_LOCAL_PART, code="email_quoted_local_part")


def normalize_email_domain(email):
    """The address with a non-ASCII domain in its IDNA 2008 / UTS #46 Unicode form
    (``mail`` U+3002 ``example.com`` becomes ``mail.example.com``); refused as invalid when IDNA 2008
    refuses the domain (``☃.net``, which Django's own check, IDNA 2003, accepts)."""
    local, _at, domain = email.rpartition("@")
    if domain.isascii():
        return email
    mapped = unicode_domain(domain)
    if mapped is None:
        raise ValidationError(EMAIL_INVALID_DOMAIN, code="invalid")
    return f"{local}@{mapped}"


def validate_email_domain_not_confusable(email):
    """Refuses a domain label that mixes scripts with look-alike letters (``exаmple.com`` with a
    Cyrillic а), written in Unicode or as its ``xn--`` form."""
    domain = unicode_domain(email.rpartition("@")[2]) or ""
    if any(confusables.is_dangerous(label) for label in domain.split(".")):
        raise ValidationError(EMAIL_DOMAIN_CONFUSABLE, code="email_domain_confusable")


def clean_new_email(email, exclude_pk=None, unclaimed=True):
    """A present, valid, caselessly unique email, its domain lowercased as Django does and, when
    not ASCII, in its IDNA Unicode form, its local part without quotes it does not need; no
    deviation character or invisible characters, no look-alike domain, no quotes it needs.
    ``unclaimed=False`` leaves out the last check, that no other account holds it."""
    email = (email or "").strip()
    if not email:
        raise ValidationError(EMAIL_REQUIRED, code="email_required")
    email = BaseUserManager.normalize_email(email)
    validate_email_length(email)
    validate_email_domain_unambiguous(email)
    validate_email_visible(email)
    # Before Django's check, which calls some of these (a space unescaped) merely invalid.
    validate_email_local_part_unquoted(email)
    validate_email(email)
    email = normalize_email_domain(unquoted_email(email))
    validate_email_length(email)  # again: the domain's Unicode form may be longer
    validate_email_domain_not_confusable(email)
    if unclaimed:
        validate_email_unclaimed(email, exclude_pk)
    return email


def address_held_by_other(email, exclude_pk=None):
    """Whether another account holds ``email`` (what :func:`validate_email_unclaimed` refuses)."""
    try:
        validate_email_unclaimed(email, exclude_pk)
    except ValidationError:
        return True
    return False


def conflict_error(conflict, username=None, signed_in=False):
    """The error the checks above would have raised, for a save the database refused because
    another account took the name or address meanwhile (an ``authfold.accounts.keys.CaselessConflict``,
    which names its ``field``); keyed by that field.

    ``username``: the name to quote when the refusal could not tell which one was refused;
    ``signed_in``: the request's person is logged in (not told to log in to the other account).
    """
    if conflict.field == "email":
        message = EMAIL_TAKEN_BY_ANOTHER_ACCOUNT if signed_in else EMAIL_TAKEN
        error = ValidationError(message, code="email_taken")
    elif conflict.lookalike:
        error = ValidationError(
            USERNAME_LOOKALIKE,
            code="username_lookalike",
            params={"username": conflict.value or username},
        )
    else:
        error = ValidationError(
            USERNAME_TAKEN,
            code="username_taken",
            params={"username": conflict.value or username},
        )
    return ValidationError({conflict.field: error})
