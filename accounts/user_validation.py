"""The rule on the user model's own validation, for the host's code that never asks ours.

A host's ``ModelForm`` on ``User`` (or anything that calls ``user.full_clean()``) ends in
``Model.validate_unique(exclude)``, which knows only the exact-case unique index on
``username``: a caseless twin passed it and then met our key's refusal on save, a 500. With
``AUTHFOLD_VALIDATE_USER_MODEL`` on (the default), :class:`~authfold.accounts.apps.AccountsConfig`
wraps the user model's ``validate_unique`` so that, for each field not in ``exclude``, it also
applies the parts of :mod:`authfold.accounts.validators` that are about other accounts:

- ``username``: no other account has it in any case (``username_taken``), nor has it as its
  email (``username_is_email_of_other``), nor, with ``AUTHFOLD_REFUSE_LOOKALIKES``, a name that
  looks like it (``username_lookalike``);
- ``email``: present (``email_required``), unless the account's stored address is already blank
  (a legacy account may keep it so), no other account has it in any case (``email_taken``), nor
  has it as its username (``email_is_username_of_other``).

A value the account already has in the database is not checked again, as our forms do
(``keeps_stored_value``): a legacy address shared with a twin must not stop its owner from editing
the rest of the account. Django's ModelForms (4.2 to 6.x) call ``instance.validate_unique`` with
the fields that are not on the form, or already have an error, in ``exclude``: so a form of ours
that has refused a field is not told twice, and a form without ``email`` is not asked for one.

It is a wrapper on one method, not a field or ``Meta`` option: the model's migration state does
not change. The syntax rules (characters, confusables, reserved names, lengths) stay with our
forms and serializers: they are about new names, and ``full_clean`` runs on old ones too.
"""

import functools

from django.core.exceptions import ValidationError
from django.db import router

from authfold.accounts.validators import (
    EMAIL_REQUIRED,
    validate_email_domain_unambiguous,
    validate_email_unclaimed,
    validate_username_available,
    validate_username_not_email_of_other,
    validate_username_not_lookalike,
)


def stored_identity(user):
    """The ``(username, email)`` the database holds for ``user``, or ``None`` for a new user."""
    if user.pk is None:
        return None
    using = user._state.db or router.db_for_write(type(user), instance=user)
    rows = type(user)._default_manager.using(using).filter(pk=user.pk)
    return rows.values_list("username", "email").first()


def identity_errors(user, exclude):
    """The rule's errors for ``user``'s username and email, ``{field: [ValidationError]}``."""
    checks = {"username": check_username, "email": check_email}
    wanted = [field for field in checks if field not in exclude]
    if not wanted:
        return {}
    stored = stored_identity(user)
    errors = {}
    for field in wanted:
        try:
            checks[field](user, stored)
        except ValidationError as error:
            errors[field] = error.error_list
    return errors


def check_username(user, stored):
    """No other account has this username, in any case, as its name or its email, nor (with
    ``AUTHFOLD_REFUSE_LOOKALIKES``) one that looks like it (a name the account keeps is not
    asked)."""
    if not user.username or (stored is not None and user.username == stored[0]):
        return
    validate_username_available(user.username, exclude_pk=user.pk)
    validate_username_not_email_of_other(user.username, exclude_pk=user.pk)
    validate_username_not_lookalike(user.username, exclude_pk=user.pk)


def check_email(user, stored):
    """An address is present (unless the stored one is blank too), its domain means one domain to
    every mail system, and it is no other account's email or username."""
    email = (user.email or "").strip()
    if not email:
        if stored is None or (stored[1] or "").strip():
            raise ValidationError(EMAIL_REQUIRED, code="email_required")
        return
    if stored is not None and user.email == stored[1]:
        return
    validate_email_domain_unambiguous(email)
    validate_email_unclaimed(email, exclude_pk=user.pk)


def with_identity_rule(validate_unique):
    """``validate_unique`` that applies the rule first, then Django's checks on the other fields.

    A field our rule refused is excluded from Django's own check, so an exact twin is reported
    once, with our code (``username_taken``), not also as Django's ``unique``.
    """

    @functools.wraps(validate_unique)
    def validate_unique_with_identity_rule(self, exclude=None):
        exclude = set(exclude or ())
        errors = identity_errors(self, exclude)
        try:
            validate_unique(self, exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    validate_unique_with_identity_rule.authfold_wraps = validate_unique
    return validate_unique_with_identity_rule


def install_identity_rule(user_model):
    """Wrap ``user_model.validate_unique`` with the rule, once; a model without both a ``username``
    and an ``email`` field is left alone (the system checks say what is supported)."""
    field_names = {field.name for field in user_model._meta.get_fields()}
    if not {"username", "email"} <= field_names:
        return False
    if hasattr(user_model.validate_unique, "authfold_wraps"):
        return True
    user_model.validate_unique = with_identity_rule(user_model.validate_unique)
    return True


def uninstall_identity_rule(user_model):
    """Give ``user_model`` back the ``validate_unique`` it had before :func:`install_identity_rule`."""
    original = getattr(user_model.validate_unique, "authfold_wraps", None)
    if original is not None:
        user_model.validate_unique = original
