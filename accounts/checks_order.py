"""A system check on where ``authfold.accounts`` sits in ``INSTALLED_APPS``.

Django runs the management command of the app listed *first*: our ``createsuperuser`` and
``changepassword`` (which answer a caseless twin with a clean error) only replace Django's when
``authfold.accounts`` comes before ``django.contrib.auth``.
"""

from django.apps import apps
from django.core import checks

W002 = "authfold.W002"


@checks.register(checks.Tags.compatibility)
def check_listed_before_contrib_auth(app_configs=None, **kwargs):
    """Warn when ``django.contrib.auth`` is listed before ``authfold.accounts``."""
    labels = [config.label for config in apps.get_app_configs()]
    if "auth" not in labels or labels.index("auth") > labels.index("authfold"):
        return []
    return [
        checks.Warning(
            "'authfold.accounts' is listed after 'django.contrib.auth' in INSTALLED_APPS, so "
            "createsuperuser and changepassword are Django's own: they do not see caseless twins "
            "and end in a traceback when the database refuses one.",
            hint="Move 'authfold.accounts' above 'django.contrib.auth' in INSTALLED_APPS.",
            id=W002,
        )
    ]
