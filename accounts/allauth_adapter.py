"""django-allauth's account forms under the rule: ``ACCOUNT_ADAPTER =
"authfold.accounts.allauth_adapter.CaselessAccountAdapter"``, or ``CaselessAccountAdapterMixin``
mixed into the host's own adapter, before allauth's.

allauth checks a new username with its own lookup (``iexact``), which misses twins such as
``STRASSE`` beside ``Straße`` and fullwidth ``ＭＡＲＩＡ``; the database then refuses the save (a
409 with ``CaselessConflictMiddleware``). With this adapter its sign-up form refuses them first,
as a form error with our codes, and puts a new email under our rule (another account's address or
username in any case, invisible characters, a look-alike domain). Importing
this module needs django-allauth; nothing else of ours does.
"""

from allauth.account.adapter import DefaultAccountAdapter

from authfold.accounts.validators import clean_new_email, clean_new_username


class CaselessAccountAdapterMixin:
    """Runs our rule after allauth's own checks on new usernames and emails."""

    def clean_username(self, username, shallow=False):
        username = super().clean_username(username, shallow=shallow)
        # allauth asks "shallow" while it generates a name and checks its availability itself.
        return username if shallow else clean_new_username(username)

    def validate_unique_email(self, email):
        # allauth asks this of an address being signed up with or added, never of one typed to
        # reset a password or to log in (its clean_email is asked of those too).
        email = super().validate_unique_email(email)
        user = getattr(getattr(self, "request", None), "user", None)
        own = user.pk if user is not None and user.is_authenticated else None
        return clean_new_email(email, exclude_pk=own)


class CaselessAccountAdapter(CaselessAccountAdapterMixin, DefaultAccountAdapter):
    """allauth's default adapter with our rule on new usernames and emails."""
