"""Look-alike usernames (``AUTHFOLD_REFUSE_LOOKALIKES``): a new or changed name whose UTS #39
skeleton another account has is refused with ``username_lookalike`` on every write path of ours;
names that only share letters stay free; the audit reports the look-alikes that already exist."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from authfold.accounts.caseless import skeleton_digest, username_skeleton
from authfold.accounts.models import CaselessKey
from authfold.accounts.validators import clean_new_username
from authfold.data_migrations.keys import sync_caseless_keys
from tests import test_dead_keys
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.twins import bulk_users
from tests.web.pages import error_codes, new_account_data

User = get_user_model()
delete_around_django = test_dead_keys.delete_around_django  # the fixture, shared

# (the existing account, the look-alike typed)
LOOKALIKES = {
    "dotted capital I": ("maria", "MARİA"),
    "combining acute accent": ("maria", "maria\u0301"),
    "dotless i": ("maria", "marıa"),
    "Latin alpha": ("maria", "mɑria"),
    "all-Cyrillic paypal": ("paypal", "раураӏ"),
}
# (the existing account, a different name that must stay free)
FREE_NAMES = {
    "marina": ("maria", "marina"),
    "mario": ("maria", "mario"),
    "papa": ("paypal", "papa"),
}


@pytest.fixture(autouse=True)
def lookalikes_refused(settings):
    settings.AUTHFOLD_REFUSE_LOOKALIKES = True


def codes(error):
    return {item.code for item in error.value.error_list}


# The skeleton itself.


@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_lookalikes_have_the_same_skeleton(existing, typed):
    assert username_skeleton(typed) == username_skeleton(existing)


@pytest.mark.parametrize(("existing", "typed"), FREE_NAMES.values(), ids=FREE_NAMES)
def test_different_names_have_different_skeletons(existing, typed):
    assert username_skeleton(typed) != username_skeleton(existing)


def test_the_skeleton_keeps_an_indic_virama_that_changes_the_letters_shape():
    assert username_skeleton("नमस्ते") != username_skeleton("नमसते")


# The rule, and the key row that carries it.


@pytest.mark.django_db
def test_a_new_users_key_row_holds_its_skeleton_digest():
    user = UserFactory(username="Maria")
    assert CaselessKey.objects.get(user=user).skeleton_digest == skeleton_digest("maria")


@pytest.mark.django_db
def test_a_renamed_users_key_row_holds_its_new_skeleton_digest():
    user = UserFactory(username="maria")
    user.username = "paypal"
    user.save()
    assert CaselessKey.objects.get(user=user).skeleton_digest == skeleton_digest("paypal")


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_a_lookalike_of_an_existing_username_is_refused(existing, typed):
    UserFactory(username=existing)
    with pytest.raises(Exception) as error:
        clean_new_username(typed)
    assert codes(error) == {"username_lookalike"}


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), FREE_NAMES.values(), ids=FREE_NAMES)
def test_a_different_name_that_shares_letters_stays_free(existing, typed):
    UserFactory(username=existing)
    assert clean_new_username(typed) == typed


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_with_the_setting_off_a_lookalike_is_accepted(settings, existing, typed):
    settings.AUTHFOLD_REFUSE_LOOKALIKES = False
    UserFactory(username=existing)
    assert clean_new_username(typed)


@pytest.mark.django_db
def test_an_exact_caseless_twin_is_refused_as_taken_not_as_a_lookalike():
    UserFactory(username="maria")
    with pytest.raises(Exception) as error:
        clean_new_username("MARIA")
    assert codes(error) == {"username_taken"}


@pytest.mark.django_db
def test_an_account_may_rename_itself_to_a_lookalike_of_its_own_name():
    user = UserFactory(username="maria")
    assert clean_new_username("maría", exclude_pk=user.pk) == "maría"


@pytest.mark.django_db
def test_a_dead_key_row_never_holds_a_lookalike(delete_around_django):
    delete_around_django(UserFactory(username="maria"))
    assert clean_new_username("mɑria") == "mɑria"


# Every write path of ours.


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_signup_page_refuses_a_lookalike(client, existing, typed):
    UserFactory(username=existing)
    data = new_account_data(username=typed, email="newcomer@example.com")
    response = client.post(reverse("authfold:signup"), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_lookalike"}
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), FREE_NAMES.values(), ids=FREE_NAMES)
def test_signup_page_accepts_a_name_that_only_shares_letters(client, existing, typed):
    UserFactory(username=existing)
    data = new_account_data(username=typed, email="newcomer@example.com")
    assert client.post(reverse("authfold:signup"), data).status_code == 302
    assert User.objects.filter(username=typed).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_api_signup_refuses_a_lookalike_with_400(existing, typed):
    from rest_framework.test import APIClient

    UserFactory(username=existing)
    body = {"username": typed, "email": "newcomer@example.com", "password": DEFAULT_PASSWORD}
    response = APIClient().post("/api/users/", body, format="json")
    assert response.status_code == 400
    assert api_error_codes(response) == {"username": ["username_lookalike"]}
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_api_rename_refuses_a_lookalike_with_400(existing, typed):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    UserFactory(username=existing)
    me = UserFactory(username="someone")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=me).key}")
    response = client.patch("/api/users/me/", {"username": typed}, format="json")
    assert response.status_code == 400
    assert api_error_codes(response) == {"username": ["username_lookalike"]}
    me.refresh_from_db()
    assert me.username == "someone"


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_profile_page_refuses_renaming_to_a_lookalike(client, existing, typed):
    UserFactory(username=existing)
    me = UserFactory(username="someone", email="someone@example.com")
    client.force_login(me)
    data = {"username": typed, "email": "someone@example.com", "first_name": "", "last_name": ""}
    response = client.post(reverse("authfold:profile"), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_lookalike"}
    me.refresh_from_db()
    assert me.username == "someone"


@pytest.mark.django_db
def test_profile_page_lets_an_account_take_a_lookalike_of_its_own_name(client):
    me = UserFactory(username="maria", email="maria@example.com")
    client.force_login(me)
    data = {"username": "maría", "email": "maria@example.com", "first_name": "", "last_name": ""}
    assert client.post(reverse("authfold:profile"), data).status_code == 302
    me.refresh_from_db()
    assert me.username == "maría"


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_admin_add_user_refuses_a_lookalike(admin_client, existing, typed):
    UserFactory(username=existing)
    data = new_account_data(username=typed, email="newcomer@example.com")
    response = admin_client.post(reverse("admin:auth_user_add"), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_lookalike"}
    assert not User.objects.filter(email="newcomer@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_admin_change_user_refuses_a_lookalike(admin_client, existing, typed):
    UserFactory(username=existing)
    me = UserFactory(username="someone", email="someone@example.com")
    data = {
        "username": typed,
        "email": "someone@example.com",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "12:00:00",
    }
    response = admin_client.post(reverse("admin:auth_user_change", args=[me.pk]), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_lookalike"}
    me.refresh_from_db()
    assert me.username == "someone"


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), LOOKALIKES.values(), ids=LOOKALIKES)
def test_host_model_validation_refuses_a_lookalike(existing, typed):
    from django.core.exceptions import ValidationError

    UserFactory(username=existing)
    user = User(username=typed, email="newcomer@example.com")
    with pytest.raises(ValidationError) as error:
        user.validate_unique()
    assert [e.code for e in error.value.error_dict["username"]] == ["username_lookalike"]


# The audit: look-alikes that already exist are reported, never renamed.


def audit(*args):
    out = StringIO()
    try:
        call_command("conflict_audit", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_audit_reports_a_legacy_lookalike_group_in_json():
    maria, alpha = bulk_users("maria", "mɑria")
    bulk_users("marina")
    sync_caseless_keys(User, CaselessKey, "default")
    status, out = audit("--format", "json")
    report = json.loads(out)
    assert [
        [account["id"] for account in group["users"]] for group in report["lookalike_groups"]
    ] == [[maria.pk, alpha.pk]]
    assert report["lookalike_groups"][0]["key"] == username_skeleton("maria")
    assert report["summary"]["lookalike_groups"] == 1
    assert report["username_conflicts"] == []


@pytest.mark.django_db
def test_audit_text_report_lists_a_lookalike_group():
    bulk_users("paypal", "раураӏ")
    sync_caseless_keys(User, CaselessKey, "default")
    _, out = audit()
    assert "look alike" in out
    assert "раураӏ" in out


@pytest.mark.django_db
def test_audit_does_not_list_caseless_twins_as_lookalikes():
    bulk_users("maria", "MARIA")
    sync_caseless_keys(User, CaselessKey, "default")
    report = json.loads(audit("--format", "json")[1])
    assert report["lookalike_groups"] == []
    assert len(report["username_conflicts"]) == 1


@pytest.mark.django_db
def test_lookalikes_do_not_fail_the_audits_check_and_fix_leaves_them_alone():
    bulk_users("maria", "marıa")
    sync_caseless_keys(User, CaselessKey, "default")
    assert audit("--check")[0] == 0
    audit("--fix", "--no-input", "--check")
    assert sorted(User.objects.values_list("username", flat=True)) == ["maria", "marıa"]


@pytest.mark.django_db
def test_audit_counts_a_key_without_its_skeleton_as_stale_and_fix_fills_it():
    user = UserFactory(username="maria")
    CaselessKey.objects.update(skeleton_digest=None)  # as code from before 0006 writes it
    status, out = audit("--format", "json", "--check")
    assert status == 1
    assert json.loads(out)["summary"]["stale_keys"] == 1
    audit("--fix", "--no-input")
    assert CaselessKey.objects.get(user=user).skeleton_digest == skeleton_digest("maria")
    assert audit("--check")[0] == 0


@pytest.mark.django_db
def test_audit_counts_a_key_with_another_names_skeleton_as_stale():
    UserFactory(username="maria")
    # Written by code that kept no sources (before migration 0014), so the row is read.
    CaselessKey.objects.update(skeleton_digest=skeleton_digest("john"), username_source=None)
    status, out = audit("--format", "json", "--check")
    assert (status, json.loads(out)["summary"]["stale_keys"]) == (1, 1)


# Migration 0006 adds the column and fills it; backwards it drops it.


def key_columns():
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, CaselessKey._meta.db_table
        )
    return {column.name for column in description}


def test_migration_0006_backfills_the_skeletons_of_existing_users(accounts_migrator):
    accounts_migrator.to("0005")
    assert "skeleton_digest" not in key_columns()
    users = bulk_users("maria", "раураӏ", "Straße")
    state = MigrationExecutor(connection).loader.project_state(
        ("authfold", "0005_renamerecord_old_username_index")
    )
    historical_keys = state.apps.get_model("authfold", "CaselessKey")
    sync_caseless_keys(User, historical_keys, "default")  # the keys as 0001-0005 wrote them
    accounts_migrator.to("0006")
    stored = dict(CaselessKey.objects.values_list("user_id", "skeleton_digest"))
    assert stored == {user.pk: skeleton_digest(user.username) for user in users}
    accounts_migrator.to("0005")
    assert "skeleton_digest" not in key_columns()
    assert historical_keys.objects.count() == 3


@pytest.mark.django_db
def test_skeleton_backfill_fills_every_key_row_without_one_in_batches():
    from authfold.data_migrations.keys import backfill_skeleton_digests

    users = [UserFactory(username=name) for name in ("maria", "paypal", "john")]
    CaselessKey.objects.update(skeleton_digest=None)
    assert backfill_skeleton_digests(User, CaselessKey, "default", batch_size=2) == 3
    stored = dict(CaselessKey.objects.values_list("user_id", "skeleton_digest"))
    assert stored == {user.pk: skeleton_digest(user.username) for user in users}


@pytest.mark.django_db
def test_a_key_written_without_a_skeleton_is_stale_and_refreshed():
    from authfold.data_migrations.keys import refresh_stale_caseless_keys

    user = UserFactory(username="maria")
    CaselessKey.objects.update(skeleton_digest=None)  # as code from before 0006 writes it
    assert refresh_stale_caseless_keys(User, CaselessKey, "default") == 1
    assert CaselessKey.objects.get(user=user).skeleton_digest == skeleton_digest("maria")


def test_migration_0006_stopped_after_adding_the_column_runs_again_to_the_end(accounts_migrator):
    user = UserFactory(username="maria")
    accounts_migrator.to("0005")
    with connection.schema_editor() as editor:  # 0006's first step done, then stopped
        editor.add_field(CaselessKey, CaselessKey._meta.get_field("skeleton_digest"))
    accounts_migrator.to("0006")
    # The column alone: email_claim comes with 0007.
    stored = CaselessKey.objects.values_list("skeleton_digest", flat=True).get(user=user)
    assert stored == skeleton_digest("maria")
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, CaselessKey._meta.db_table)
    assert "authfold_key_skeleton_digest" in indexes
