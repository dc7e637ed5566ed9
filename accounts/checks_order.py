"""A system check on which app's ``createsuperuser`` and ``changepassword`` a project runs.

Django runs the management command of the app listed *first*: ours (which answer a caseless twin
with a clean error) replace Django's only when ``authfold.accounts`` comes before
``django.contrib.auth``. A host app with a command of its own keeps it when listed above ours; listed
below, ours hides it, and that is worth a warning too (its command may do more than create a user:
a profile, a project).
"""

from pathlib import Path

from django.apps import apps
from django.core import checks
from django.core.management import find_commands, get_commands

W002 = "authfold.W002"
W003 = "authfold.W003"

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


@checks.register(checks.Tags.compatibility)
def check_host_user_commands_are_not_hidden(app_configs=None, **kwargs):
    """Warn when ours hides a host app's own ``createsuperuser`` or ``changepassword``."""
    configs = list(apps.get_app_configs())
    labels = [config.label for config in configs]
    below_ours = configs[labels.index("authfold") + 1 :]
    return [
        checks.Warning(
            f"'authfold.accounts' is listed above '{config.name}', so its {name} is hidden: "
            f"manage.py {name} runs ours.",
            hint=f"To keep your own, list '{config.name}' above 'authfold.accounts' in "
            "INSTALLED_APPS, and have it report CaselessConflict (docs/ADOPTING.md, 1a).",
            id=W003,
        )
        for config in below_ours
        if config.name != "django.contrib.auth"
        for name in USER_COMMANDS
        if name in find_commands(str(Path(config.path) / "management"))
    ]
