"""System checks from the host's side: the adopted settings pass them; ``ModelBackend`` left beside
authfold's backend is warned about; a user model authfold cannot serve is refused at start-up; and
the backend finds the user model when it runs, not when it was first imported."""

import importlib
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import checks
from django.db import models
from django.test import RequestFactory, override_settings

from tests.people import PASSWORD

User = get_user_model()


class EmailUser(AbstractBaseUser):
    """A user model that logs in by email: what a host might move to, and authfold cannot fold."""

    email = models.EmailField(unique=True)
    USERNAME_FIELD = "email"

    class Meta:
        app_label = "accounts"


def backend_modules():
    return {
        name: module for name, module in sys.modules.items() if name.startswith("authfold.backends")
    }


def authfold_messages():
    return [message for message in checks.run_checks() if message.id.startswith("authfold.")]


def test_the_adopted_settings_pass_every_system_check():
    messages = [m for m in checks.run_checks() if m.level >= checks.WARNING and not m.is_silenced()]
    assert messages == []


def test_model_backend_left_beside_ours_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "django.contrib.auth.backends.ModelBackend",
    ]
    warnings = [m for m in authfold_messages() if m.level == checks.WARNING]
    assert len(warnings) == 1
    assert "ModelBackend" in warnings[0].msg


def test_the_hosts_email_backend_listed_before_ours_is_warned_about(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "accounts.backends.EmailBackend",
        "authfold.backends.CaseInsensitiveModelBackend",
    ]
    [warning] = [m for m in authfold_messages() if m.id == "authfold.W005"]
    assert "'accounts.backends.EmailBackend'" in warning.msg


def test_a_user_model_that_logs_in_by_email_is_refused_at_start_up(settings):
    settings.AUTH_USER_MODEL = "accounts.EmailUser"
    errors = [m for m in authfold_messages() if m.level >= checks.ERROR]
    assert len(errors) == 1
    assert "accounts.EmailUser" in errors[0].msg


@pytest.mark.django_db
def test_the_backend_finds_the_user_model_when_it_runs(make_user):
    # As in Django's own auth tests: the backend is first imported while a test has swapped the
    # user model; the user model must not stay the swapped one afterwards.
    maria = make_user("Maria")
    imported = backend_modules()
    for name in imported:
        del sys.modules[name]
    try:
        with override_settings(AUTH_USER_MODEL="accounts.EmailUser"):
            backends = importlib.import_module("authfold.backends")
        backend = backends.CaseInsensitiveModelBackend()
        request = RequestFactory().post("/")
        assert backend.authenticate(request, username="maria", password=PASSWORD) == maria
    finally:
        # Put back the modules the rest of the process imported, or none if it had not yet.
        for name in backend_modules():
            del sys.modules[name]
        sys.modules.update(imported)
        if "authfold.backends" in imported:
            sys.modules["authfold"].backends = imported["authfold.backends"]
