"""Renamed people are never locked out, and nobody is shadowed: for AUTHFOLD_RENAMED_LOGIN_DAYS
after conflict resolution renamed ``Maria`` to ``Maria_1``, the exact old spelling and the
account's own password log in to ``Maria_1`` (backend, web page and API), while the same spelling
with the keeper's password logs in to the keeper, ``maria``, as any spelling of her name does."""

import logging
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth import SESSION_KEY, authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, models
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.login import INVALID_LOGIN_BY_EMAIL
from authfold.accounts.models import CaselessKey, RenameRecord
from authfold.accounts.signals import renamed_login
from authfold.backends.case_insensitive import RENAMED_LOGIN_ATTRIBUTE, RenamedLogin
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.test_backend import CountingPasswordHasher
from tests.twins import User, bulk_users, resolve
from tests.web.pages import new_account_data

pytestmark = pytest.mark.django_db

KEEPERS_PASSWORD = "the keeper's own password"
LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/auth/token/"


@pytest.fixture
def renamed():
    """``maria`` kept the name; ``Maria`` (password DEFAULT_PASSWORD) was renamed ``Maria_1``."""
    bulk_users("maria", password=make_password(KEEPERS_PASSWORD))
    bulk_users("Maria", password=make_password(DEFAULT_PASSWORD))
    resolve()
    backfill_caseless_keys(User, CaselessKey, "default")  # the keeper's key, as 0001 writes it
    user = User.objects.get(username="Maria_1")
    assert RenameRecord.objects.get().user == user
    return user


@pytest.fixture
def keeper(renamed):
    return User.objects.get(username="maria")


def login(username, password=DEFAULT_PASSWORD):
    return authenticate(request=None, username=username, password=password)


def renamed_days_ago(days):
    RenameRecord.objects.update(created_at=timezone.now() - timedelta(days=days))


# The backend


def test_old_username_logs_in_to_the_renamed_account(renamed):
    assert login("Maria") == renamed


def test_old_username_login_marks_the_user_with_the_old_name_and_its_last_day(renamed):
    record = RenameRecord.objects.get()
    user = login("Maria")
    assert getattr(user, RENAMED_LOGIN_ATTRIBUTE) == RenamedLogin(
        old_username="Maria", works_until=record.created_at + timedelta(days=90)
    )


def test_login_with_the_new_username_is_not_marked(renamed):
    assert not hasattr(login("maria_1"), RENAMED_LOGIN_ATTRIBUTE)


def test_keeper_logs_in_with_its_own_name_in_any_case(renamed, keeper):
    for typed in ["maria", "MARIA", "ＭＡＲＩＡ"]:
        assert login(typed, KEEPERS_PASSWORD) == keeper


def test_old_username_counts_only_byte_for_byte(renamed, keeper):
    # "MARIA" is the keeper's name in another case: the renamed account's password opens nothing.
    assert login("MARIA") is None
    assert login("ＭＡＲＩＡ") is None


# A case-insensitive collation on the rename log: MariaDB gives our tables the database's default
# collation (utf8mb4_general_ci on a stock server) even where auth_user.username is utf8mb4_bin.
CASELESS_COLLATIONS = {
    "mysql": "utf8mb4_general_ci",
    "sqlite": "NOCASE",
    "postgresql": "authfold_test_caseless",
}


@pytest.fixture
def caseless_rename_log(transactional_db):
    """The rename log's ``old_username`` in a case-insensitive collation, for one test."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE COLLATION IF NOT EXISTS authfold_test_caseless "
                "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
    binary = RenameRecord._meta.get_field("old_username")
    caseless = models.CharField(max_length=150, db_collation=CASELESS_COLLATIONS[connection.vendor])
    caseless.set_attributes_from_name("old_username")
    caseless.model = RenameRecord
    with connection.schema_editor() as editor:
        editor.alter_field(RenameRecord, binary, caseless)
    yield
    with connection.schema_editor() as editor:
        editor.alter_field(RenameRecord, caseless, binary)


def test_old_username_typed_in_fullwidth_letters_is_the_old_username(renamed, keeper):
    assert login("Ｍａｒｉａ") == renamed
    assert login("Ｍａｒｉａ", KEEPERS_PASSWORD) == keeper


def test_old_username_is_compared_byte_for_byte_whatever_the_rename_logs_collation(
    caseless_rename_log, renamed, keeper
):
    assert RenameRecord.objects.filter(old_username="MARIA").exists()  # the collation folds case
    assert login("MARIA") is None
    assert login("MARIA", KEEPERS_PASSWORD) == keeper
    assert login("Maria") == renamed


def test_old_username_with_the_keepers_password_logs_in_to_the_keeper(renamed, keeper):
    user = login("Maria", KEEPERS_PASSWORD)
    assert user == keeper
    assert not hasattr(user, RENAMED_LOGIN_ATTRIBUTE)


def test_old_username_with_a_wrong_password_is_refused(renamed):
    assert login("Maria", "wrong password") is None


def test_old_username_of_an_inactive_account_is_refused(renamed):
    User.objects.filter(pk=renamed.pk).update(is_active=False)
    assert login("Maria") is None


def test_an_inactive_renamed_account_leaves_its_old_spelling_to_the_keeper(renamed, keeper):
    User.objects.filter(pk=renamed.pk).update(is_active=False)
    assert login("Maria", KEEPERS_PASSWORD) == keeper


def test_an_inactive_renamed_account_with_the_keepers_password_also_logs_in_to_the_keeper(
    renamed, keeper
):
    # Same password on both accounts: the inactive one is not even tried.
    User.objects.filter(pk=renamed.pk).update(is_active=False, password=keeper.password)
    assert login("Maria", KEEPERS_PASSWORD) == keeper


def test_an_inactive_keeper_is_not_logged_in_by_an_old_spelling(renamed, keeper):
    User.objects.filter(pk=keeper.pk).update(is_active=False)
    assert login("Maria", KEEPERS_PASSWORD) is None
    assert login("Maria") == renamed


def test_old_username_logs_in_on_the_last_days_of_the_period(renamed):
    renamed_days_ago(89)
    assert login("Maria") == renamed


def test_old_username_stops_logging_in_after_the_period(renamed):
    renamed_days_ago(91)
    assert login("Maria") is None
    assert login("Maria_1") == renamed


def test_after_the_period_the_old_spelling_reaches_the_keeper(renamed, keeper):
    renamed_days_ago(91)
    assert login("Maria", KEEPERS_PASSWORD) == keeper


def test_the_period_follows_the_setting(renamed, settings):
    settings.AUTHFOLD_RENAMED_LOGIN_DAYS = 7
    renamed_days_ago(8)
    assert login("Maria") is None
    settings.AUTHFOLD_RENAMED_LOGIN_DAYS = 9
    assert login("Maria") == renamed


@pytest.mark.parametrize("off", [0, None])
def test_setting_the_period_to_nothing_turns_old_username_logins_off(renamed, settings, off):
    settings.AUTHFOLD_RENAMED_LOGIN_DAYS = off
    assert login("Maria") is None


def test_a_reverted_rename_is_ignored(renamed):
    RenameRecord.objects.update(reverted_at=timezone.now())
    assert login("Maria") is None


def test_a_deleted_renamed_account_logs_nobody_in(renamed):
    renamed.delete()
    assert RenameRecord.objects.get().user is None
    assert login("Maria") is None


def test_an_account_renamed_again_since_still_logs_in_with_its_old_name(renamed):
    renamed.username = "maria.first"
    renamed.save()
    user = login("Maria")
    assert user == renamed
    assert user.username == "maria.first"


def test_a_live_account_named_exactly_the_old_name_and_the_renamed_one_each_log_in_with_theirs(
    renamed, keeper
):
    keeper.delete()
    newcomer = UserFactory(username="Maria", password=KEEPERS_PASSWORD)
    assert login("Maria", KEEPERS_PASSWORD) == newcomer
    assert login("Maria") == renamed


def test_the_keeper_taking_the_old_spelling_still_leaves_it_to_the_renamed_password(
    renamed, keeper
):
    keeper.username = "Maria"  # a change of its own name's case
    keeper.save()
    assert login("Maria", KEEPERS_PASSWORD) == keeper
    assert login("Maria") == renamed


def test_the_exact_owner_of_the_old_spelling_is_tried_first(counting_hasher, renamed, keeper):
    keeper.username = "Maria"
    keeper.save()
    assert hashings(counting_hasher, "Maria", KEEPERS_PASSWORD) == 1
    assert hashings(counting_hasher, "Maria", DEFAULT_PASSWORD) == 2


def test_several_accounts_renamed_from_one_name_log_nobody_in_and_are_logged(renamed, caplog):
    other = UserFactory(username="Maria_2")
    RenameRecord.objects.create(
        run=uuid.uuid4(), user=other, old_username="Maria", new_username="Maria_2", reason="test"
    )
    with caplog.at_level(logging.WARNING, logger="authfold.login"):
        assert login("Maria") is None
    assert "were all renamed from it" in caplog.text
    assert f"{renamed.pk} ('Maria_1')" in caplog.text


def test_several_accounts_renamed_from_one_name_leave_it_to_the_keeper(renamed, keeper):
    RenameRecord.objects.create(
        run=uuid.uuid4(),
        user=UserFactory(username="Maria_2"),
        old_username="Maria",
        new_username="Maria_2",
        reason="test",
    )
    assert login("Maria", KEEPERS_PASSWORD) == keeper


def test_an_inactive_account_renamed_from_the_same_name_leaves_it_to_the_active_one(renamed):
    RenameRecord.objects.create(
        run=uuid.uuid4(),
        user=UserFactory(username="Maria_2", is_active=False),
        old_username="Maria",
        new_username="Maria_2",
        reason="test",
    )
    assert login("Maria") == renamed


def test_two_renames_of_one_account_from_the_same_name_still_log_in(renamed):
    RenameRecord.objects.create(
        run=uuid.uuid4(), user=renamed, old_username="Maria", new_username="Maria_1", reason="t"
    )
    assert login("Maria") == renamed


def test_old_username_login_sends_one_statement(
    renamed, django_assert_num_queries, throttles_counting_in_memory
):
    login("Maria_1")  # the first lookup also asks whether the key table exists yet
    with django_assert_num_queries(1):
        assert login("Maria") == renamed


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.test_backend.CountingPasswordHasher"]
    return CountingPasswordHasher


def hashings(hasher, username, password):
    """How many times the password hasher ran during one login."""
    hasher.encodings = 0
    login(username, password)
    return hasher.encodings


def test_old_username_costs_one_hashing_like_an_unknown_name_or_a_wrong_password(
    counting_hasher, renamed
):
    costs = {
        "old username": hashings(counting_hasher, "Maria", DEFAULT_PASSWORD),
        "unknown name": hashings(counting_hasher, "Mario", DEFAULT_PASSWORD),
        "wrong password": hashings(counting_hasher, "maria", "wrong"),
    }
    renamed_days_ago(91)
    costs["old username after the period"] = hashings(counting_hasher, "Maria", DEFAULT_PASSWORD)
    assert costs == dict.fromkeys(costs, 1)


def test_old_username_costs_a_second_hashing_only_when_the_renamed_password_is_not_the_one_typed(
    counting_hasher, renamed
):
    assert hashings(counting_hasher, "Maria", KEEPERS_PASSWORD) == 2
    assert hashings(counting_hasher, "Maria", "wrong") == 2


def test_old_username_of_an_inactive_account_costs_one_hashing(counting_hasher, renamed):
    User.objects.filter(pk=renamed.pk).update(is_active=False)
    assert hashings(counting_hasher, "Maria", KEEPERS_PASSWORD) == 1
    assert hashings(counting_hasher, "Maria", "wrong") == 1


def test_an_old_username_refused_for_naming_several_accounts_hashes_once(counting_hasher, renamed):
    RenameRecord.objects.create(
        run=uuid.uuid4(),
        user=UserFactory(username="Maria_2"),
        old_username="Maria",
        new_username="Maria_2",
        reason="test",
    )
    assert hashings(counting_hasher, "Maria", DEFAULT_PASSWORD) == 1


# Failed logins


ACCOUNT_RATE = 10  # mysite/settings.py: the login_account scope


def test_a_wrong_password_on_an_old_username_counts_against_that_name_on_both_accounts(
    renamed, keeper
):
    for _ in range(ACCOUNT_RATE):
        assert login("Maria", "wrong") is None
    assert login("Maria") is None
    assert login("maria", KEEPERS_PASSWORD) is None  # her name, in another case
    assert login("Maria_1") == renamed  # another name of the renamed account: counted apart


def test_the_keeper_logging_in_by_her_old_spelling_counts_nothing_against_the_renamed_account(
    renamed, keeper
):
    for _ in range(ACCOUNT_RATE):
        assert login("Maria", KEEPERS_PASSWORD) == keeper
    assert login("Maria_1") == renamed


def test_failures_on_a_renamed_accounts_new_name_leave_its_old_spelling_open(renamed, keeper):
    for _ in range(ACCOUNT_RATE):
        assert login("Maria_1", "wrong") is None
    assert login("Maria_1") is None
    assert login("Maria") == renamed
    assert login("Maria", KEEPERS_PASSWORD) == keeper


def test_an_old_username_whose_accounts_are_all_throttled_is_refused_unchecked(
    renamed, keeper, counting_hasher
):
    for _ in range(ACCOUNT_RATE):
        login("Maria", "wrong")
    assert hashings(counting_hasher, "Maria", KEEPERS_PASSWORD) == 0


# What a rename leaves alone


def test_a_password_reset_link_sent_before_the_rename_still_works_after_it():
    [_keeper] = bulk_users("maria", password=make_password(KEEPERS_PASSWORD))
    [twin] = bulk_users("Maria", password=make_password(DEFAULT_PASSWORD))
    token = default_token_generator.make_token(twin)
    resolve()
    twin.refresh_from_db()
    assert twin.username == "Maria_1"
    assert default_token_generator.check_token(twin, token)


def test_a_session_opened_before_the_rename_stays_open_as_the_renamed_account():
    bulk_users("maria", password=make_password(KEEPERS_PASSWORD))
    [twin] = bulk_users("Maria", password=make_password(DEFAULT_PASSWORD))
    browser = Client()
    browser.force_login(twin)
    # Logging in made "Maria" the most recent login, which keeps the name: make "maria" the keeper.
    User.objects.filter(username="maria").update(last_login=timezone.now() + timedelta(hours=1))
    resolve()
    response = browser.get("/api/users/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "Maria_1"


# The web login page


@pytest.fixture
def browser():
    return Client()


def test_login_page_with_old_username_logs_in_and_names_the_new_one_on_the_next_page(
    browser, renamed
):
    response = browser.post(
        LOGIN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD}, follow=True
    )
    assert browser.session[SESSION_KEY] == str(renamed.pk)
    page = response.content.decode()
    assert "“Maria” is no longer your username: it is now “Maria_1”." in page
    [message] = response.context["messages"]
    assert message.level_tag == "warning"


def test_admin_login_page_with_old_username_names_the_new_one_on_the_next_page(browser, renamed):
    User.objects.filter(pk=renamed.pk).update(is_staff=True)
    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "Maria", "password": DEFAULT_PASSWORD, "next": "/admin/"},
        follow=True,
    )
    assert browser.session[SESSION_KEY] == str(renamed.pk)
    assert "“Maria” is no longer your username: it is now “Maria_1”." in response.content.decode()


def test_login_page_message_says_when_the_old_name_stops_working(browser, renamed, settings):
    settings.USE_TZ = True
    settings.TIME_ZONE = "UTC"
    RenameRecord.objects.update(created_at=datetime(2026, 11, 1, 12, tzinfo=dt_timezone.utc))
    settings.AUTHFOLD_RENAMED_LOGIN_DAYS = 365 * 10  # the record must still be in its period
    response = browser.post(
        LOGIN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD}, follow=True
    )
    assert "“Maria” stops working on Oct. 29, 2036." in response.content.decode()


def test_login_page_with_the_new_username_shows_no_rename_message(browser, renamed):
    response = browser.post(
        LOGIN_URL, {"username": "Maria_1", "password": DEFAULT_PASSWORD}, follow=True
    )
    assert browser.session[SESSION_KEY] == str(renamed.pk)
    assert list(response.context["messages"]) == []


def test_login_page_with_old_username_after_the_period_shows_the_form_error(browser, renamed):
    renamed_days_ago(91)
    response = browser.post(LOGIN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors().as_data()
    assert error.code == "invalid_login"
    assert str(INVALID_LOGIN_BY_EMAIL) in response.content.decode().replace("&#x27;", "'")
    assert SESSION_KEY not in browser.session


def test_someone_who_signs_up_as_the_old_name_within_the_period_shadows_nobody(
    browser, renamed, keeper
):
    keeper.delete()  # the name is free again: the renamed account only holds "Maria_1"
    newcomer = new_account_data(username="Maria", email="newcomer@example.com")
    assert browser.post("/accounts/signup/", newcomer).status_code == 302
    browser.post("/accounts/logout/", follow=True)  # shows, and so clears, the welcome message
    response = browser.post(
        LOGIN_URL, {"username": "Maria", "password": newcomer["password1"]}, follow=True
    )
    assert browser.session[SESSION_KEY] == str(User.objects.get(username="Maria").pk)
    assert list(response.context["messages"]) == []
    browser.post("/accounts/logout/")
    log_in_with_renamed_password = browser.post(
        LOGIN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD}, follow=True
    )
    assert browser.session[SESSION_KEY] == str(renamed.pk)
    assert "it is now “Maria_1”" in log_in_with_renamed_password.content.decode()


def test_login_page_with_old_username_and_the_keepers_password_logs_the_keeper_in_untold(
    browser, renamed, keeper
):
    response = browser.post(
        LOGIN_URL, {"username": "Maria", "password": KEEPERS_PASSWORD}, follow=True
    )
    assert browser.session[SESSION_KEY] == str(keeper.pk)
    assert list(response.context["messages"]) == []


def test_admin_login_page_with_old_username_and_the_keepers_password_logs_the_keeper_in(
    browser, renamed, keeper
):
    User.objects.filter(pk=keeper.pk).update(is_staff=True)
    browser.post(
        "/admin/login/?next=/admin/",
        {"username": "Maria", "password": KEEPERS_PASSWORD, "next": "/admin/"},
    )
    assert browser.session[SESSION_KEY] == str(keeper.pk)


def test_login_page_with_old_username_and_a_wrong_password_shows_the_form_error(browser, renamed):
    response = browser.post(LOGIN_URL, {"username": "Maria", "password": "wrong"})
    assert response.status_code == 200
    assert SESSION_KEY not in browser.session


# The API token login


@pytest.fixture
def api():
    from django.core.cache import cache

    cache.clear()  # the login throttle counts in the cache
    yield APIClient()
    cache.clear()


def test_token_login_with_old_username_answers_the_token_and_the_new_username(api, renamed):
    response = api.post(
        TOKEN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=renamed).key, "username": "Maria_1"}


def test_web_and_api_log_a_fullwidth_old_username_in_to_the_same_account(api, browser, renamed):
    typed = {"username": "Ｍａｒｉａ", "password": DEFAULT_PASSWORD}
    browser.post(LOGIN_URL, typed)
    assert browser.session[SESSION_KEY] == str(renamed.pk)
    response = api.post(TOKEN_URL, typed, format="json")
    assert response.status_code == 200
    assert response.json()["username"] == "Maria_1"


def test_token_login_with_old_username_and_the_keepers_password_answers_the_keepers_token(
    api, renamed, keeper
):
    response = api.post(
        TOKEN_URL, {"username": "Maria", "password": KEEPERS_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=keeper).key, "username": "maria"}


@pytest.mark.parametrize(
    ("prepare", "password"),
    [
        (lambda user: renamed_days_ago(91), DEFAULT_PASSWORD),
        (lambda user: RenameRecord.objects.update(reverted_at=timezone.now()), DEFAULT_PASSWORD),
        (lambda user: None, "wrong password"),
        (lambda user: User.objects.filter(pk=user.pk).update(is_active=False), DEFAULT_PASSWORD),
    ],
    ids=["after-the-period", "reverted", "wrong-password", "inactive"],
)
def test_token_login_with_old_username_is_refused_with_the_generic_400(
    api, renamed, prepare, password
):
    prepare(renamed)
    response = api.post(TOKEN_URL, {"username": "Maria", "password": password}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert not Token.objects.exists()


def test_token_login_with_a_live_accounts_old_name_logs_in_to_the_live_account(api, renamed):
    User.objects.get(username="maria").delete()
    newcomer = UserFactory(username="Maria")
    response = api.post(
        TOKEN_URL, {"username": "Maria", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.json() == {"token": Token.objects.get(user=newcomer).key, "username": "Maria"}


def test_schema_declares_the_username_in_the_token_login_answer(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    reference = schema["paths"][TOKEN_URL]["post"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"token", "username"}
    assert set(component["required"]) == {"token", "username"}


# The signal a host hooks


@pytest.fixture
def renamed_logins():
    """What :data:`renamed_login` receivers are sent, in order."""
    heard = []

    def receiver(sender, **kwargs):
        heard.append({"sender": sender, **kwargs})

    renamed_login.connect(receiver)
    yield heard
    renamed_login.disconnect(receiver)


def log_in_at(door, username, password, browser, api):
    """Log in through ``door`` (the login page, the admin's, the API's token login)."""
    if door == "api":
        return api.post(TOKEN_URL, {"username": username, "password": password}, format="json")
    url = "/admin/login/" if door == "admin" else LOGIN_URL
    return browser.post(url, {"username": username, "password": password})


@pytest.mark.parametrize("door", ["web", "admin", "api"])
def test_a_login_by_old_username_is_signalled_with_the_old_name_and_its_last_day(
    door, browser, api, renamed, renamed_logins
):
    User.objects.filter(pk=renamed.pk).update(is_staff=True)
    record = RenameRecord.objects.get()
    log_in_at(door, "Maria", DEFAULT_PASSWORD, browser, api)
    [heard] = renamed_logins
    assert heard["sender"] is User
    assert heard["user"] == renamed
    assert heard["old_username"] == "Maria"
    assert heard["works_until"] == record.created_at + timedelta(days=90)
    assert heard["request"].path in {LOGIN_URL, "/admin/login/", TOKEN_URL}


@pytest.mark.parametrize("door", ["web", "admin", "api"])
def test_a_keepers_login_by_an_old_spelling_is_not_signalled(
    door, browser, api, renamed, keeper, renamed_logins
):
    User.objects.filter(pk=keeper.pk).update(is_staff=True)
    response = log_in_at(door, "Maria", KEEPERS_PASSWORD, browser, api)
    assert response.status_code == (200 if door == "api" else 302)  # logged in
    assert renamed_logins == []
