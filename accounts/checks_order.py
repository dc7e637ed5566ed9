"""A system check on which app's ``createsuperuser`` and ``changepassword`` a project runs.

Django runs the management command of the app listed *first*: ours (which answer a caseless twin
with a clean error) replace Django's only when ``authfold.accounts`` comes before
``django.contrib.auth``. A host app with a command of its own, listed above ours, keeps it: that
is the host's choice, not ours to warn about.
"""

from django.core import checks
from django.core.management import get_commands

W002 = "authfold.W002"

# The commands of django.contrib.auth that write a username, and so have a caseless version here.
USER_COMMANDS = ("createsuperuser", "changepassword")


@checks.register(checks.Tags.compatibility)
def check_user_commands_are_not_djangos(app_configs=None, **kwargs):
    """Warn when ``createsuperuser`` or ``changepassword`` would be ``django.contrib.auth``'s."""
    commands = get_commands()
    djangos = [name for name in USER_COMMANDS if commands.get(name) == "django.contrib.auth"]
    if not djangos:
        return []
    return [
        checks.Warning(
            f"{' and '.join(djangos)} {'are' if len(djangos) > 1 else 'is'} Django's own, because "
            "'authfold.accounts' is listed after 'django.contrib.auth' in INSTALLED_APPS: "
            "Django's do not see caseless twins and end in a traceback when the database "
            "refuses one.",
            hint="Move 'authfold.accounts' above 'django.contrib.auth' in INSTALLED_APPS "
            "(below any app of yours that has its own createsuperuser or changepassword).",
            id=W002,
        )
    ]
