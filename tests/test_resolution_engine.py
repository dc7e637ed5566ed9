"""The engine's rules: who keeps a name, what the others become, and that runs are logged,
idempotent and reversible."""

from datetime import datetime, timedelta, timezone

import pytest

from authfold.accounts.caseless import username_digest
from authfold.accounts.models import CaselessKey, RenameRecord
from authfold.data_migrations.detection import Account, Survey
from authfold.data_migrations.planning import ActiveThenRecentLoginPolicy, Rename
from authfold.data_migrations.resolution import apply_resolution, revert_resolution
from tests.twins import User, bulk_users, resolve

T0 = datetime(2021, 6, 1, tzinfo=timezone.utc)


def account(pk, active=True, last_login=None, joined=T0):
    return Account(pk, f"user{pk}", "", active, last_login, joined)


def keeper(*accounts):
    return ActiveThenRecentLoginPolicy().keeper_order(accounts)[0].id


class LowestIdRenamedPolicy(ActiveThenRecentLoginPolicy):
    """A replacement rule for the setting's test: the newest account keeps the name."""

    def keeper_order(self, accounts):
        return sorted(accounts, key=lambda account: -account.id)


def test_policy_keeps_the_active_account_before_one_with_a_more_recent_login():
    assert keeper(account(1, active=False, last_login=T0), account(2, active=True)) == 2


def test_policy_keeps_the_account_with_the_most_recent_login():
    assert keeper(account(1, last_login=T0), account(2, last_login=T0 + timedelta(1))) == 2


def test_policy_puts_accounts_that_never_logged_in_last():
    assert keeper(account(1, last_login=None), account(2, last_login=T0)) == 2


def test_policy_breaks_a_login_tie_by_the_earliest_date_joined():
    assert keeper(account(1, joined=T0 + timedelta(1)), account(2, joined=T0)) == 2


def test_policy_breaks_a_full_tie_by_the_lowest_id():
    assert keeper(account(2), account(1)) == 1


def test_new_name_shortens_the_stem_not_the_number():
    name = ActiveThenRecentLoginPolicy().candidate("a" * 150, 12)
    assert name == "a" * 147 + "_12"


def test_new_name_leaves_out_characters_django_refuses():
    assert ActiveThenRecentLoginPolicy().candidate("john smith!", 1) == "johnsmith_1"


@pytest.mark.django_db
def test_resolution_renames_all_but_one_twin_and_logs_each_rename():
    maria, twin = bulk_users("maria", "MARIA")
    result = resolve()
    assert result.renamed == [Rename(twin.pk, "MARIA", "MARIA_1", result.renamed[0].reason)]
    record = RenameRecord.objects.get()
    assert (record.user, record.old_username, record.new_username, record.run) == (
        twin,
        "MARIA",
        "MARIA_1",
        result.run,
    )
    assert "'maria'" in record.reason
    assert User.objects.get(pk=maria.pk).username == "maria"


@pytest.mark.django_db
def test_resolution_writes_the_renamed_account_key():
    _maria, twin = bulk_users("maria", "Maria")
    resolve()
    assert CaselessKey.objects.get(user=twin).username_digest == username_digest("maria_1")


@pytest.mark.django_db
def test_resolving_a_second_time_changes_nothing():
    bulk_users("maria", "Maria", "MARIA")
    resolve()
    before = dict(User.objects.values_list("pk", "username"))
    second = resolve()
    assert second.renamed == [] and second.planned == []
    assert dict(User.objects.values_list("pk", "username")) == before
    assert RenameRecord.objects.count() == 2


@pytest.mark.django_db
def test_apply_skips_a_rename_whose_account_changed_since_the_plan():
    _maria, twin = bulk_users("maria", "Maria")
    stale = Rename(twin.pk, "not-its-name", "maria_1", "test")
    result = apply_resolution(User, CaselessKey, RenameRecord, [stale], "default")
    assert result.renamed == [] and result.skipped[0][0] == stale
    assert User.objects.get(pk=twin.pk).username == "Maria"


@pytest.mark.django_db
def test_revert_restores_the_old_names():
    _maria, twin = bulk_users("maria", "Maria")
    resolve()
    result = revert_resolution(User, CaselessKey, RenameRecord, "default")
    assert [record.user_id for record in result.restored] == [twin.pk]
    assert User.objects.get(pk=twin.pk).username == "Maria"
    assert CaselessKey.objects.get(user=twin).username_digest == username_digest("maria")
    assert RenameRecord.objects.get().reverted_at is not None


@pytest.mark.django_db
def test_revert_reports_a_name_taken_since_instead_of_overwriting_it():
    keeper_account, twin = bulk_users("maria", "Maria")
    resolve()
    # The keeper changes the case of its own name to exactly the renamed twin's old name.
    User.objects.filter(pk=keeper_account.pk).update(username="Maria")
    result = revert_resolution(User, CaselessKey, RenameRecord, "default")
    assert result.restored == []
    assert "now has the name 'Maria'" in result.refused[0][1]
    assert User.objects.get(pk=twin.pk).username == "Maria_1"
    assert RenameRecord.objects.get().reverted_at is None


@pytest.mark.django_db
def test_revert_leaves_an_account_renamed_again_since():
    _maria, twin = bulk_users("maria", "Maria")
    resolve()
    User.objects.filter(pk=twin.pk).update(username="marianne")
    result = revert_resolution(User, CaselessKey, RenameRecord, "default")
    assert "renamed since" in result.refused[0][1]
    assert User.objects.get(pk=twin.pk).username == "marianne"


@pytest.mark.django_db
def test_resolution_policy_setting_replaces_the_rule(settings):
    settings.AUTHFOLD_RESOLUTION_POLICY = "tests.test_resolution_engine.LowestIdRenamedPolicy"
    first, second = bulk_users("maria", "Maria")
    resolve()
    assert User.objects.get(pk=first.pk).username == "maria_1"
    assert User.objects.get(pk=second.pk).username == "Maria"


@pytest.mark.django_db
def test_rename_separator_setting_goes_between_name_and_number(settings):
    settings.AUTHFOLD_RENAME_SEPARATOR = "-"
    _maria, twin = bulk_users("maria", "MARIA")
    resolve()
    assert User.objects.get(pk=twin.pk).username == "MARIA-1"


@pytest.mark.django_db
def test_a_separator_django_refuses_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.AUTHFOLD_RENAME_SEPARATOR = " "
    bulk_users("maria", "MARIA")
    with pytest.raises(ImproperlyConfigured):
        resolve()


@pytest.mark.django_db
def test_survey_counts_the_users_written_around_the_key_table():
    User.objects.create_user("keyed", "keyed@example.com")
    bulk_users("bulk1", "bulk2")
    assert Survey(User, CaselessKey, "default").users_without_key_count() == 2


@pytest.mark.django_db
def test_survey_finds_twins_among_users_without_a_key_and_a_keyed_one():
    keyed = User.objects.create_user("maria", "keyed@example.com")
    bulk = bulk_users("MARIA", "Maria")
    groups = Survey(User, CaselessKey, "default").username_conflicts()
    assert [(g.key, [a.id for a in g.accounts]) for g in groups] == [
        ("maria", [keyed.pk, bulk[0].pk, bulk[1].pk])
    ]
