"""Django's ``changepassword``, finding the account by its username in any case, as login does.

It replaces Django's only when ``authfold.accounts`` is listed before ``django.contrib.auth`` in
``INSTALLED_APPS`` (Django runs the first app's command; check ``authfold.W002`` warns otherwise).
"""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS

from authfold.accounts.caseless import users_with_username
from authfold.accounts.keys import CaselessConflict


class Command(changepassword.Command):
    """``changepassword MARIA`` changes the password of ``Maria``. Where legacy twins still share
    the name, the exact spelling picks one and any other spelling is a ``CommandError`` naming
    them; a save the database refuses (a twin without its key row) is a ``CommandError`` too."""

    def handle(self, *args, **options):
        database = options.get("database") or DEFAULT_DB_ALIAS
        username = options.get("username") or getpass.getuser()
        options["username"] = self.stored_username(username, database)
        try:
            return super().handle(*args, **options)
        except CaselessConflict as conflict:
            raise CommandError(
                f"The password of '{options['username']}' was not changed: the database refused "
                f"to save the account because another account has the same {conflict.field} in "
                "some case (a legacy twin). `manage.py conflict_audit` lists the twins; "
                "`conflict_audit --fix` resolves them."
            ) from None

    def stored_username(self, username, database):
        """The stored spelling of the one account named ``username`` in any case (the exact
        spelling first); ``username`` itself when there is none, so Django reports it missing."""
        users = changepassword.UserModel._default_manager.db_manager(database).all()
        if users.filter(username=username).exists():
            return username
        names = list(users_with_username(users, username).values_list("username", flat=True))
        if not names:
            return username
        if len(names) > 1:
            raise CommandError(
                f"Several accounts have the username '{username}' in some case: "
                f"{', '.join(sorted(names))}. Give the exact one."
            )
        return names[0]
