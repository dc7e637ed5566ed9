"""Django's ``createsuperuser``, which also refuses a username or an email another account has in
any case, and an email whose domain mail systems read two ways (``faß.de``).

It replaces Django's only when ``authfold.accounts`` is listed before ``django.contrib.auth`` in
``INSTALLED_APPS`` (Django runs the first app's command; check ``authfold.W002`` warns otherwise).
"""

import os

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.management.commands import createsuperuser
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS

from authfold.accounts.caseless import users_with_email, users_with_username
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.user_model import caseless_rule_applies
from authfold.accounts.validators import (
    EMAIL_TAKEN,
    conflict_error,
    validate_email_domain_unambiguous,
)


class Command(createsuperuser.Command):
    """Asks again (at the prompt) or stops with a ``CommandError`` (``--noinput``, or a value
    given on the command line) for a caseless twin, with the sentence Django uses for an exact
    one, and likewise for an email another account has in any case."""

    def _validate_username(self, username, verbose_field_name, database):
        error = super()._validate_username(username, verbose_field_name, database)
        if error is None and self.taken_in_any_case(username, database):
            error = f"Error: That {verbose_field_name} is already taken."
        return error

    def taken_in_any_case(self, username, database):
        """Whether another account on ``database`` has ``username``, in any case. Never, for a user
        model the rule does not govern (a test's ``AUTH_USER_MODEL``): that one is Django's."""
        if not caseless_rule_applies(self.UserModel):
            return False
        users = self.UserModel._default_manager.db_manager(database).all()
        return users_with_username(users, username).exists()

    def email_taken_in_any_case(self, email, database):
        """Whether another account on ``database`` has ``email``, in any case (never for a user
        model the rule does not govern)."""
        if not email or not caseless_rule_applies(self.UserModel):
            return False
        users = self.UserModel._default_manager.db_manager(database).all()
        return users_with_email(users, email).exists()

    def email_error(self, email, database):
        """Why ``email`` cannot be the new superuser's, or ``None``: an ambiguous domain (which
        the mailer would send to another domain's mailbox), or another account's address."""
        if not email or not caseless_rule_applies(self.UserModel):
            return None
        try:
            validate_email_domain_unambiguous(BaseUserManager.normalize_email(email))
        except ValidationError as error:
            return error.messages[0]
        if self.email_taken_in_any_case(email, database):
            return str(EMAIL_TAKEN)
        return None

    def get_input_data(self, field, message, default=None):
        value = super().get_input_data(field, message, default)
        error = self.email_error(value, self.database) if field.name == "email" else None
        if error:
            self.stderr.write(f"Error: {error}")
            return None  # Django asks again
        return value

    def handle(self, *args, **options):
        self.database = options.get("database") or DEFAULT_DB_ALIAS
        email = options.get("email")
        if not options.get("interactive"):
            email = email or os.environ.get("DJANGO_SUPERUSER_EMAIL")
        error = self.email_error(email, self.database)
        if error:
            raise CommandError(error)
        try:
            return super().handle(*args, **options)
        except CaselessConflict as conflict:
            # Taken between our check and the save (or an email the database keeps unique).
            username = options.get(self.UserModel.USERNAME_FIELD)
            raise CommandError("; ".join(conflict_error(conflict, username).messages)) from None
