"""Every write path through Model.save() keeps the key in step, so the database can refuse twins."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from authfold.accounts.caseless import email_digest, username_digest
from authfold.accounts.keys import CaselessConflict, wanted_claims
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.enforcement import TwinsRemain
from authfold.data_migrations.keys import refresh_stale_caseless_keys, sync_caseless_keys
from tests.factories import UserFactory
from tests.twins import allow_legacy_twins

User = get_user_model()


def key_of(user):
    return CaselessKey.objects.get(user_id=user.pk)


@pytest.mark.django_db
def test_saving_a_fresh_instance_with_an_existing_primary_key_updates_the_key():
    user = UserFactory(username="maria")
    User(pk=user.pk, username="Straße", password=user.password).save()
    assert key_of(user).username_digest == username_digest("STRASSE")


@pytest.mark.django_db(transaction=True)
def test_renaming_through_a_fresh_instance_into_a_twin_is_refused_and_changes_nothing():
    UserFactory(username="maria")
    other = UserFactory(username="john")
    with pytest.raises(CaselessConflict):
        User(pk=other.pk, username="MARIA", password=other.password).save()
    assert User.objects.get(pk=other.pk).username == "john"
    assert key_of(other).username_digest == username_digest("john")


@pytest.mark.django_db
def test_update_fields_with_only_the_email_updates_the_email_digest():
    user = UserFactory(username="maria", email="old@example.com")
    user.email = "New@Example.com"
    user.save(update_fields=["email"])
    assert key_of(user).email_digest == email_digest("new@example.com")


@pytest.mark.django_db(transaction=True)
def test_update_fields_with_the_username_refuses_a_twin():
    UserFactory(username="maria")
    other = UserFactory(username="john")
    other.username = "Maria"
    with pytest.raises(CaselessConflict) as refusal:
        other.save(update_fields=["username"])
    assert refusal.value.field == "username"
    assert User.objects.get(pk=other.pk).username == "john"


@pytest.mark.django_db(transaction=True)
def test_force_insert_writes_the_key_and_refuses_a_twin():
    UserFactory(username="maria")
    created = User(username="john")
    created.save(force_insert=True)
    assert key_of(created).username_digest == username_digest("john")
    with pytest.raises(CaselessConflict):
        User(username="JOHN").save(force_insert=True)
    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_refused_new_user_can_be_saved_again_under_another_name():
    UserFactory(username="maria")
    twin = User(username="MARIA")
    with pytest.raises(CaselessConflict):
        twin.save()
    assert twin.pk is None
    twin.username = "maria2"
    twin.save()
    assert key_of(twin).username_digest == username_digest("maria2")


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_deletes_its_key_and_frees_the_name():
    user = UserFactory(username="maria")
    user.delete()
    assert not CaselessKey.objects.exists()
    assert UserFactory(username="MARIA").username == "MARIA"


def fixture_file(tmp_path, users):
    rows = [
        {
            "model": "auth.user",
            "pk": pk,
            "fields": {"username": username, "password": "!", "email": f"{pk}@example.com"},
        }
        for pk, username in users
    ]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(rows))
    return str(path)


@pytest.mark.django_db
def test_loaddata_writes_a_key_for_every_loaded_user(tmp_path):
    call_command(
        "loaddata", fixture_file(tmp_path, [(501, "Loaded"), (502, "Straße")]), verbosity=0
    )
    assert CaselessKey.objects.get(user_id=501).username_digest == username_digest("loaded")
    assert CaselessKey.objects.get(user_id=502).username_digest == username_digest("strasse")


@pytest.mark.django_db
def test_loaddata_renaming_an_existing_user_rewrites_its_key(tmp_path):
    user = UserFactory(username="maria")
    call_command("loaddata", fixture_file(tmp_path, [(user.pk, "Джон")]), verbosity=0)
    assert key_of(user).username_digest == username_digest("джон")


@pytest.mark.django_db(transaction=True)
def test_loaddata_with_a_caseless_twin_is_refused_and_loads_nothing(tmp_path):
    UserFactory(username="maria")
    fixture = fixture_file(tmp_path, [(601, "john"), (602, "MARIA")])
    with pytest.raises(CaselessConflict):
        call_command("loaddata", fixture, verbosity=0)
    assert list(User.objects.values_list("username", flat=True)) == ["maria"]
    assert CaselessKey.objects.count() == 1


@pytest.mark.django_db
def test_refreshing_keys_rewrites_only_the_stale_ones():
    renamed = UserFactory(username="maria")
    untouched = UserFactory(username="john")
    User.objects.filter(pk=renamed.pk).update(username="Straße")  # around Model.save()
    assert refresh_stale_caseless_keys(User, CaselessKey, "default", batch_size=1) == 1
    assert key_of(renamed).username_digest == username_digest("STRASSE")
    assert key_of(untouched).username_digest == username_digest("john")


@pytest.mark.django_db
def test_sync_backfills_missing_keys_and_rewrites_stale_ones():
    stale = UserFactory(username="maria")
    User.objects.filter(pk=stale.pk).update(email="New@Example.com")
    User.objects.bulk_create([User(username="bulk")])
    assert sync_caseless_keys(User, CaselessKey, "default") == (1, 1)
    assert key_of(stale).email_digest == email_digest("new@example.com")


def test_enforcement_migration_sees_twins_hidden_behind_stale_keys(accounts_migrator):
    accounts_migrator.to("0002")
    UserFactory(username="maria")
    renamed = UserFactory(username="john")
    User.objects.filter(pk=renamed.pk).update(username="MARIA")  # its key still says "john"
    with pytest.raises(TwinsRemain) as refusal:
        accounts_migrator.to("0003")
    assert "'MARIA'" in str(refusal.value)
    User.objects.filter(pk=renamed.pk).delete()


@pytest.mark.django_db
def test_bulk_writes_are_not_refused_by_the_database_and_are_left_to_the_audit():
    """What the database cannot do on SQLite and MariaDB (and on PostgreSQL before 0008, whose
    index refuses it: tests/test_postgres_username_index.py): update() runs no receiver, so a
    twin gets in, keyed stale."""
    UserFactory(username="maria")
    other = UserFactory(username="john")
    allow_legacy_twins()
    with transaction.atomic():
        User.objects.filter(pk=other.pk).update(username="MARIA")
    assert User.objects.count() == 2
    assert key_of(other).username_digest == username_digest("john")


@pytest.mark.django_db(transaction=True)
def test_an_exact_duplicate_saved_through_save_is_named_in_the_conflict():
    UserFactory(username="maria")
    with pytest.raises(CaselessConflict) as refusal, transaction.atomic():
        User(username="maria").save()
    assert (refusal.value.field, refusal.value.value) == ("username", "maria")


@pytest.mark.django_db(transaction=True)
def test_other_integrity_errors_on_the_user_table_stay_what_they_are():
    user = UserFactory(username="maria")
    with pytest.raises(IntegrityError) as refusal:
        User.objects.bulk_create([User(pk=user.pk, username="someone")])
    assert not isinstance(refusal.value, CaselessConflict)


@pytest.mark.django_db
def test_refreshing_a_twin_made_by_update_leaves_it_keyless_for_the_audit_to_find():
    UserFactory(username="maria")
    other = UserFactory(username="john")
    allow_legacy_twins()  # SQLite and MariaDB; PostgreSQL before 0008
    User.objects.filter(pk=other.pk).update(username="MARIA")
    assert refresh_stale_caseless_keys(User, CaselessKey, "default") == 0
    assert not CaselessKey.objects.filter(user_id=other.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_raw_delete_of_a_keyed_user_is_refused_by_the_key_foreign_key():
    user = UserFactory(username="maria")
    table = connection.ops.quote_name(User._meta.db_table)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [user.pk])
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rename_refused_before_its_row_changes_leaves_no_claim_behind():
    from authfold.accounts.models import IdentifierClaim

    UserFactory(username="maria", email="maria@example.org")
    other = UserFactory(username="john", email="john@example.org")
    other.username = "MARIA"
    with pytest.raises(CaselessConflict):
        other.save()
    held = [wanted_claims("maria", "maria@example.org"), wanted_claims("john", "john@example.org")]
    assert IdentifierClaim.objects.count() == sum(map(len, held))
    assert User.objects.get(pk=other.pk).username == "john"
