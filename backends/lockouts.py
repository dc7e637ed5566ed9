"""django-axes: lockouts counted per account, whatever the spelling of its username.

Axes counts failures per username string, so ``zed``, ``ZED`` and ``ｚｅｄ`` would be three
fresh budgets for one account. ``AXES_USERNAME_CALLABLE = "authfold.backends.axes_username"``
hands axes the caseless key instead: every spelling the backend accepts for one name counts
toward one lockout.
"""

from django.conf import settings

from authfold.accounts.caseless import username_key


def axes_username(request, credentials=None):
    """The caseless key of the login name tried, read where axes reads it by default: the
    credentials given to ``authenticate()``, else the POSTed form field. ``None`` if there is none."""
    # axes' own default is USERNAME_FIELD; read here without importing axes, which may be absent.
    field = str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    if credentials:
        login = credentials.get(field)
    elif request is not None:
        login = getattr(request, "data", request.POST).get(field)
    else:
        login = None
    if not isinstance(login, str):
        return None
    return username_key(login)
