"""CaseInsensitiveModelBackend: any case logs in, ModelBackend's guarantees hold, twins never 500."""

import logging
import secrets

import django
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.connection import ConnectionDoesNotExist
from django.views.debug import ExceptionReporter

from authfold.accounts.caseless import forget_caseless_keys_state
from authfold.accounts.models import CaselessKey
from authfold.backends import CaseInsensitiveModelBackend
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.twins import allow_legacy_twins

User = get_user_model()
LOGGER = "authfold.login"
# The state just before the enforcement migration: keys exist, twins are still allowed.
BEFORE_ENFORCEMENT = ("authfold", "0002_resolve_username_conflicts")


class CountingPasswordHasher(MD5PasswordHasher):
    """A real hasher (MD5, fast for tests) that counts how often it hashes a password."""

    algorithm = "counting_md5"
    encodings = 0

    def encode(self, password, salt):
        CountingPasswordHasher.encodings += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """PBKDF2's deliberate slowness is not under test here; MD5 keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.test_backend.CountingPasswordHasher"]
    CountingPasswordHasher.encodings = 0
    return CountingPasswordHasher


def login(username, password=DEFAULT_PASSWORD):
    return authenticate(request=None, username=username, password=password)


def bulk_create_twins(*usernames, email="{name}@example.com"):
    """Insert users around Model.save(), as a legacy database holds them: no key rows."""
    users = [User(username=name, email=email.format(name=name)) for name in usernames]
    for user in users:
        user.set_password(DEFAULT_PASSWORD)
    allow_legacy_twins()
    User.objects.bulk_create(users)
    return {user.username: User.objects.get(username=user.username) for user in users}


def migrate_accounts_to(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    forget_caseless_keys_state()


def migrate_accounts_forward():
    """Back to the newest accounts migration, with no twins left to trip the enforcement."""
    if CaselessKey._meta.db_table in connection.introspection.table_names():
        CaselessKey.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(User._meta.db_table)}")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("authfold"))
    forget_caseless_keys_state()


@pytest.fixture
def accounts_unmigrated(transactional_db):
    """A rolling deploy: the new code runs, the project's own migrations have not."""
    migrate_accounts_to(("authfold", None))
    assert CaselessKey._meta.db_table not in connection.introspection.table_names()
    yield
    migrate_accounts_forward()


@pytest.fixture
def accounts_before_enforcement(transactional_db):
    """Keys exist and hold twins with the same digest, as before the enforcement migration."""
    migrate_accounts_to(BEFORE_ENFORCEMENT)
    yield
    migrate_accounts_forward()


# Any case, fullwidth, Unicode case folding


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["maria", "Maria", "MARIA", "mArIa"])
def test_login_accepts_any_case_of_username(typed):
    user = UserFactory(username="Maria")
    assert login(typed) == user


@pytest.mark.django_db
def test_login_accepts_fullwidth_form_of_username():
    user = UserFactory(username="Maria")
    assert login("ＭＡＲＩＡ") == user


@pytest.mark.django_db
def test_login_folds_sharp_s_as_unicode_case_folding_does():
    user = UserFactory(username="Straße")
    assert login("STRASSE") == user


@pytest.mark.django_db
def test_login_tells_accented_names_apart():
    UserFactory(username="maria")
    assert login("marìa") is None


@pytest.mark.django_db
def test_async_login_accepts_any_case_of_username():
    user = UserFactory(username="Maria")
    backend = CaseInsensitiveModelBackend()
    found = async_to_sync(backend.aauthenticate)(None, username="MARIA", password=DEFAULT_PASSWORD)
    assert found == user


# ModelBackend's guarantees


@pytest.mark.django_db
def test_login_refuses_wrong_password():
    UserFactory(username="maria")
    assert login("MARIA", "wrong password") is None


@pytest.mark.django_db
def test_login_refuses_inactive_user_with_right_password():
    UserFactory(username="maria", is_active=False)
    assert login("Maria") is None


@pytest.mark.django_db
def test_login_refuses_unknown_user():
    UserFactory(username="maria")
    assert login("mario") is None


@pytest.mark.django_db
def test_unknown_user_runs_the_password_hasher_once(counting_hasher):
    UserFactory(username="maria")
    counting_hasher.encodings = 0
    assert login("nobody") is None
    assert counting_hasher.encodings == 1


@pytest.mark.django_db
def test_unknown_user_costs_the_same_hashing_as_a_wrong_password(counting_hasher):
    UserFactory(username="maria")
    counting_hasher.encodings = 0
    login("maria", "wrong password")
    wrong_password = counting_hasher.encodings
    counting_hasher.encodings = 0
    login("nobody", "wrong password")
    assert counting_hasher.encodings == wrong_password == 1


@pytest.mark.django_db
def test_non_string_username_is_refused_after_running_the_hasher(counting_hasher):
    counting_hasher.encodings = 0
    assert login(["maria"]) is None
    assert counting_hasher.encodings == 1


class LookupFailsBackend(CaseInsensitiveModelBackend):
    """Our backend on a day the database goes away in the middle of a login."""

    def find_users(self, login):
        raise RuntimeError("the database went away")


def variables_in_error_report(failing_login):
    """The variables Django's error report (the debug page, the mail to ADMINS) shows for each
    frame the failed login went through, this test module's own frames left out."""
    with pytest.raises(RuntimeError) as raised:
        failing_login()
    reporter = ExceptionReporter(None, raised.type, raised.value, raised.tb)
    frames = [frame for frame in reporter.get_traceback_frames() if frame["filename"] != __file__]
    return repr([frame["vars"] for frame in frames])


def test_error_reports_hide_the_password_of_a_login_that_failed_midway():
    password = secrets.token_hex(12)
    backend = LookupFailsBackend()

    shown = variables_in_error_report(lambda: backend.authenticate(None, "maria", password))

    assert password not in shown
    assert "maria" in shown  # the login's frames are in the report, only the password is hidden


@pytest.mark.skipif(
    django.VERSION < (5, 0),
    reason="Django 4.2 has no async login, and its sensitive_variables cannot mark a coroutine",
)
def test_async_error_reports_hide_the_password_of_a_login_that_failed_midway():
    password = secrets.token_hex(12)
    backend = LookupFailsBackend()

    shown = variables_in_error_report(
        lambda: async_to_sync(backend.aauthenticate)(None, "maria", password)
    )

    assert password not in shown
    assert "maria" in shown


@pytest.mark.django_db
def test_get_user_is_model_backends():
    active = UserFactory()
    inactive = UserFactory(is_active=False)
    backend = CaseInsensitiveModelBackend()
    assert CaseInsensitiveModelBackend.get_user is ModelBackend.get_user
    assert backend.get_user(active.pk) == active
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(active.pk + inactive.pk + 1000) is None


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["Maria", "MARIA", "ＭＡＲＩＡ"])
def test_login_in_any_case_sends_one_statement(
    django_assert_num_queries, typed, throttles_counting_in_memory
):
    user = UserFactory(username="Maria")
    with django_assert_num_queries(1):
        assert login(typed) == user


# Keyless users (written around Model.save())


@pytest.mark.django_db
def test_keyless_user_logs_in_with_its_exact_name():
    user = bulk_create_twins("Maria")["Maria"]
    assert not CaselessKey.objects.filter(user=user).exists()
    assert login("Maria") == user


@pytest.mark.django_db
def test_keyless_exact_owner_wins_over_a_keyed_case_twin():
    keyed = UserFactory(username="Maria")
    keyless = bulk_create_twins("maria")["maria"]
    assert login("maria") == keyless
    assert login("Maria") == keyed


# Legacy twins before migrate (rolling deploy)


def test_before_migrate_any_case_logs_in_when_there_are_no_twins(accounts_unmigrated):
    user = bulk_create_twins("Maria")["Maria"]
    assert login("maria") == user
    assert login("ＭＡＲＩＡ") == user


def test_before_migrate_exact_case_owner_of_twins_logs_in(accounts_unmigrated):
    twins = bulk_create_twins("maria", "Maria", "MARIA")
    for name, user in twins.items():
        assert login(name) == user


def test_before_migrate_other_case_of_twins_is_refused_and_logged(accounts_unmigrated, caplog):
    twins = bulk_create_twins("maria", "Maria")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert login("MARIA") is None
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert "ambiguous login for 'MARIA'" in record.getMessage()
    for user in twins.values():
        assert f"{user.pk} ({user.username!r})" in record.getMessage()


def test_before_migrate_wrong_password_of_exact_twin_is_refused(accounts_unmigrated):
    bulk_create_twins("maria", "Maria")
    assert login("maria", "wrong password") is None


# Legacy twins in the key table (before the enforcement migration)


def test_key_table_twins_exact_case_owner_logs_in(accounts_before_enforcement):
    twins = bulk_create_twins("maria", "Maria")
    assert backfill_caseless_keys(User, CaselessKey, "default") == 2
    assert CaselessKey.objects.values("username_digest").distinct().count() == 1
    assert login("maria") == twins["maria"]
    assert login("Maria") == twins["Maria"]


def test_key_table_twins_other_case_is_refused_and_logged(accounts_before_enforcement, caplog):
    twins = bulk_create_twins("maria", "Maria")
    backfill_caseless_keys(User, CaselessKey, "default")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert login("ＭＡＲＩＡ") is None
    [record] = [r for r in caplog.records if r.name == LOGGER]
    for user in twins.values():
        assert f"{user.pk} ({user.username!r})" in record.getMessage()


def test_key_table_twins_refusal_runs_the_password_hasher(
    accounts_before_enforcement, counting_hasher
):
    bulk_create_twins("maria", "Maria")
    backfill_caseless_keys(User, CaselessKey, "default")
    counting_hasher.encodings = 0
    assert login("MARIA") is None
    assert counting_hasher.encodings == 1


# Login by email


@pytest.mark.django_db
def test_email_login_accepts_any_case_when_on(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    user = UserFactory(username="maria", email="Maria@Example.com")
    assert login("MARIA@example.COM") == user


@pytest.mark.django_db
def test_email_login_is_refused_when_off(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = False
    UserFactory(username="maria", email="maria@example.com")
    assert login("maria@example.com") is None


@pytest.mark.django_db
def test_email_login_refuses_inactive_user(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    UserFactory(username="maria", email="maria@example.com", is_active=False)
    assert login("maria@example.com") is None


@pytest.mark.django_db
def test_username_containing_at_sign_wins_over_another_accounts_email(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    named = UserFactory(username="ana@example.com", email="ana@elsewhere.org")
    # Legacy data: the database refuses such an address to every write through save().
    User.objects.bulk_create([User(username="ana", email="ana@example.com")])
    backfill_caseless_keys(User, CaselessKey, "default")
    assert login("ANA@example.com") == named


def test_shared_email_logs_nobody_in_and_is_logged(accounts_before_enforcement, settings, caplog):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    twins = bulk_create_twins("maria", "mario", email="Shared@Example.com")
    backfill_caseless_keys(User, CaselessKey, "default")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert login("SHARED@example.com") is None
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert "email 'SHARED@example.com'" in record.getMessage()
    for user in twins.values():
        assert str(user.pk) in record.getMessage()


def test_before_migrate_email_login_works(accounts_unmigrated, settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    user = bulk_create_twins("maria", email="Maria@Example.com")["maria"]
    assert login("maria@example.com") == user


# Database routers


class RecordingRouter:
    """Sends reads to ``read_alias`` and remembers which models were read."""

    read_alias = "default"
    reads = []

    def db_for_read(self, model, **hints):
        self.reads.append(model._meta.label)
        return self.read_alias


class ElsewhereRouter(RecordingRouter):
    read_alias = "replica"


@pytest.mark.django_db
def test_login_reads_users_where_the_router_says(settings, throttles_counting_in_memory):
    user = UserFactory(username="maria")
    settings.DATABASE_ROUTERS = ["tests.test_backend.RecordingRouter"]
    RecordingRouter.reads.clear()
    assert login("MARIA") == user
    assert "auth.User" in RecordingRouter.reads


@pytest.mark.django_db
def test_login_reads_from_the_routers_alias_like_model_backend(settings):
    UserFactory(username="maria")
    settings.DATABASE_ROUTERS = ["tests.test_backend.ElsewhereRouter"]
    with pytest.raises(ConnectionDoesNotExist, match="replica"):
        ModelBackend().authenticate(None, username="maria", password=DEFAULT_PASSWORD)
    with pytest.raises(ConnectionDoesNotExist, match="replica"):
        CaseInsensitiveModelBackend().authenticate(
            None, username="MARIA", password=DEFAULT_PASSWORD
        )
