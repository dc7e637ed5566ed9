"""The two tables of email verification go with their account, and code deployed before their
migration has run still deletes accounts (the runbook deploys first, then migrates)."""

import pytest
from django.utils import timezone

from authfold.accounts.models import PendingEmailChange, UnconfirmedEmail
from tests.factories import UserFactory


@pytest.mark.django_db
def test_deleting_an_account_deletes_its_pending_and_unconfirmed_addresses():
    user = UserFactory()
    PendingEmailChange.objects.create(
        user=user, email="new@example.org", requested_at=timezone.now()
    )
    UnconfirmedEmail.objects.create(user=user, email=user.email, created_at=timezone.now())
    user.delete()
    assert not PendingEmailChange.objects.exists()
    assert not UnconfirmedEmail.objects.exists()


def test_an_account_is_deleted_before_the_tables_exist(accounts_migrator):
    accounts_migrator.to("0008_postgres_username_key_index")
    user = UserFactory()
    user.delete()
    assert not type(user).objects.filter(pk=user.pk).exists()
