"""System checks: ModelBackend kept beside ours warns (authfold.W001), and so does a host's own
ModelBackend subclass listed before ours (authfold.W005) and a list with no caseless login at all
(authfold.W007); a user model without a ``username`` to fold is an error that says what is
supported (authfold.E001); production settings without ``AUTHFOLD_SITE_URL`` warn
(authfold.W006); a cache alias CACHES lacks is an error (authfold.E003), and auth's migrations
turned off are warned about (authfold.W008)."""

from django.apps import apps
from django.contrib.auth.backends import ModelBackend
from django.core import checks

from authfold.backends import CaselessLoginMixin

OURS = "authfold.backends.CaseInsensitiveModelBackend"
AXES = "axes.backends.AxesStandaloneBackend"


def messages_with_id(message_id, app_configs=None):
    return [message for message in checks.run_checks(app_configs) if message.id == message_id]


def test_model_backend_beside_ours_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [OURS, "django.contrib.auth.backends.ModelBackend"]

    [warning] = messages_with_id("authfold.W001")

    assert warning.level == checks.WARNING
    assert "django.contrib.auth.backends.ModelBackend" in warning.msg
    assert OURS in warning.hint


def test_a_backend_inheriting_model_backend_s_exact_login_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.AllowAllUsersModelBackend",
        OURS,
    ]

    [warning] = messages_with_id("authfold.W001")

    assert "AllowAllUsersModelBackend" in warning.msg


def test_ours_with_axes_and_a_host_s_own_backends_is_not_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [
        AXES,
        OURS,
        "django.contrib.auth.backends.RemoteUserBackend",
        "axes.backends.AxesBackend",  # a ModelBackend subclass that never logs anyone in
    ]

    assert messages_with_id("authfold.W001") == []


def test_model_backend_without_ours_is_not_warned_about_as_beside_ours(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

    assert messages_with_id("authfold.W001") == []


def test_the_demo_settings_pass_every_authfold_check(settings):
    settings.DEBUG = True  # the demo's own setting (pytest-django turns it off)
    assert [m for m in checks.run_checks() if m.id.startswith("authfold.")] == []


def test_an_email_as_username_user_model_is_an_error_naming_what_is_supported(swap_user_model):
    swap_user_model("EmailUser")

    [error] = messages_with_id("authfold.E001")

    assert error.level == checks.ERROR
    assert "`username` CharField" in error.msg
    assert "'swapped_users.EmailUser'" in error.msg
    assert "'email'" in error.msg


def test_a_user_model_with_a_username_field_passes_the_user_model_check(swap_user_model):
    swap_user_model("NamedUser")

    assert messages_with_id("authfold.E001") == []


def test_checks_asked_for_other_apps_only_leave_ours_out(settings, swap_user_model):
    swap_user_model("EmailUser")
    settings.AUTHENTICATION_BACKENDS = [OURS, "django.contrib.auth.backends.ModelBackend"]
    others = [config for config in apps.get_app_configs() if config.label != "authfold"]

    assert messages_with_id("authfold.E001", others) == []
    assert messages_with_id("authfold.W001", others) == []


class HostBackend(ModelBackend):
    """A host's own login backend, as real projects have them: ModelBackend with a twist."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request, username=username, password=password, **kwargs)


HOST_BACKEND = "tests.test_checks.HostBackend"


def test_a_model_backend_subclass_listed_before_ours_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [AXES, HOST_BACKEND, OURS]

    [warning] = messages_with_id("authfold.W005")

    assert warning.level == checks.WARNING
    assert repr(HOST_BACKEND) in warning.msg
    assert "before 'authfold.backends.CaseInsensitiveModelBackend'" in warning.msg
    assert "List 'tests.test_checks.HostBackend' after" in warning.hint


def test_a_model_backend_subclass_listed_after_ours_is_not_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [AXES, OURS, HOST_BACKEND]

    assert messages_with_id("authfold.W005") == []


def test_backends_that_never_take_a_password_before_ours_are_not_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesBackend",  # a ModelBackend subclass that only refuses locked-out users
        "django.contrib.auth.backends.RemoteUserBackend",  # takes remote_user, not a password
        OURS,
    ]

    assert messages_with_id("authfold.W005") == []


def test_model_backend_itself_before_ours_is_warned_about_once(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", OURS]

    assert len(messages_with_id("authfold.W001")) == 1
    assert messages_with_id("authfold.W005") == []


def test_a_model_backend_subclass_without_ours_is_not_our_warning(settings):
    settings.AUTHENTICATION_BACKENDS = [HOST_BACKEND]

    assert messages_with_id("authfold.W005") == []


def test_production_settings_without_a_site_url_are_warned_about(settings):
    settings.DEBUG = False
    settings.AUTHFOLD_SITE_URL = None
    assert [message.level for message in messages_with_id("authfold.W006")] == [checks.WARNING]


def test_production_settings_with_a_site_url_are_not_warned_about(settings):
    settings.DEBUG = False
    settings.AUTHFOLD_SITE_URL = "https://accounts.example.org"
    assert messages_with_id("authfold.W006") == []


def test_debug_settings_without_a_site_url_are_not_warned_about(settings):
    settings.DEBUG = True
    settings.AUTHFOLD_SITE_URL = None
    assert messages_with_id("authfold.W006") == []


def test_production_settings_with_the_sites_framework_and_a_site_id_are_not_warned_about(settings):
    """The current site is then the configured ``Site`` row, whatever the Host header says."""
    settings.DEBUG = False
    settings.AUTHFOLD_SITE_URL = None
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django.contrib.sites"]
    settings.SITE_ID = 1
    assert messages_with_id("authfold.W006") == []


class CaselessHostBackend(CaselessLoginMixin, HostBackend):
    """The host's backend made caseless by the mixin, as docs/ADOPTING.md step 3 shows."""


CASELESS_HOST_BACKEND = "tests.test_checks.CaselessHostBackend"


def test_a_host_s_model_backend_subclass_without_any_caseless_login_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [AXES, HOST_BACKEND]

    [warning] = messages_with_id("authfold.W007")

    assert warning.level == checks.WARNING
    assert "CaselessLoginMixin" in warning.hint


def test_model_backend_alone_is_warned_about_as_no_caseless_login(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

    assert len(messages_with_id("authfold.W007")) == 1


def test_a_host_backend_with_the_caseless_login_mixin_passes_every_backend_check(settings):
    settings.AUTHENTICATION_BACKENDS = [AXES, CASELESS_HOST_BACKEND]
    settings.DEBUG = True  # not the production settings authfold.W006 is about

    assert [m for m in checks.run_checks() if m.id.startswith("authfold.W")] == []


def test_a_model_backend_subclass_before_a_host_backend_with_the_mixin_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [HOST_BACKEND, CASELESS_HOST_BACKEND]

    [warning] = messages_with_id("authfold.W005")

    assert repr(HOST_BACKEND) in warning.msg


def test_a_throttle_cache_alias_the_caches_lack_is_an_error(settings):
    settings.AUTHFOLD_CACHE = "authfold"  # the runbook's alias, without its CACHES entry

    [error] = messages_with_id("authfold.E003")
    assert "'authfold'" in error.msg


def test_a_throttle_cache_alias_of_the_caches_passes(settings):
    settings.CACHES = {
        **settings.CACHES,
        "authfold": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.AUTHFOLD_CACHE = "authfold"

    assert messages_with_id("authfold.E003") == []


def test_auth_migrations_turned_off_are_warned_about_naming_the_setting(settings):
    settings.MIGRATION_MODULES = {"auth": None}

    [warning] = messages_with_id("authfold.W008")
    assert "MIGRATION_MODULES" in warning.msg


def test_another_app_s_migrations_turned_off_are_not_our_error(settings):
    settings.MIGRATION_MODULES = {"sessions": None, "auth": "django.contrib.auth.migrations"}

    assert messages_with_id("authfold.W008") == []
