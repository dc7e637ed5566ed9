"""Every write through Model.save() keeps the user's caseless key in step."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from authfold.accounts.caseless import email_digest, username_digest
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import UserFactory
from tests.twins import allow_legacy_twins

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_create_user_writes_the_key():
    user = User.objects.create_user("Maria", "Maria@Example.com", "pw")
    key = CaselessKey.objects.get(user=user)
    assert key.username_digest == username_digest("MARIA")
    assert key.email_digest == email_digest("maria@example.com")


def test_renaming_a_user_updates_the_key():
    user = UserFactory(username="maria")
    user.username = "Straße"
    user.save()
    assert CaselessKey.objects.get(user=user).username_digest == username_digest("STRASSE")


def test_blank_email_has_no_email_digest():
    user = UserFactory(email="")
    assert CaselessKey.objects.get(user=user).email_digest is None


def test_saving_only_last_login_does_not_touch_the_key():
    user = UserFactory(username="maria")
    CaselessKey.objects.filter(user=user).update(username_digest="stale")
    user.save(update_fields=["last_login"])
    assert CaselessKey.objects.get(user=user).username_digest == "stale"


def test_backfill_creates_keys_only_for_users_without_one():
    keyed = UserFactory(username="keyed")
    bulk = User.objects.bulk_create(
        [User(username=f"bulk{n}", email=f"b{n}@x.org") for n in range(7)]
    )
    assert not CaselessKey.objects.filter(user__username__startswith="bulk").exists()
    created = backfill_caseless_keys(User, CaselessKey, "default", batch_size=3)
    assert created == 7
    assert CaselessKey.objects.count() == 8
    assert CaselessKey.objects.get(user=bulk[0]).username_digest == username_digest("BULK0")
    assert CaselessKey.objects.get(user=keyed).username_digest == username_digest("keyed")
    assert backfill_caseless_keys(User, CaselessKey, "default") == 0


def test_a_twin_refused_inside_a_transaction_is_rolled_back_without_a_delete():
    """A DELETE's range locks on related tables deadlocked concurrent sign-ups on InnoDB.

    The key table's refusal; on PostgreSQL the expression index (0008) refuses the INSERT itself
    first, so it is set aside here."""
    UserFactory(username="maria")
    allow_legacy_twins()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as sent, pytest.raises(CaselessConflict):
            User.objects.create_user("MARIA", "other@example.com")
        statements = [query["sql"].lstrip().upper() for query in sent.captured_queries]
        assert not [sql for sql in statements if sql.startswith("DELETE")]
        assert list(User.objects.values_list("username", flat=True)) == ["maria"]
