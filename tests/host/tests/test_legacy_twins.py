"""Legacy twins in the host's data before the adoption: ``migrate`` keeps the name for one of them,
renames the other and writes down the rename."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from authfold.accounts.models import RenameRecord
from tests.people import legacy_users

User = get_user_model()


@pytest.mark.django_db(transaction=True)
def test_migrate_renames_the_legacy_twin_that_loses_and_records_the_rename():
    # As before the adoption: none of authfold's tables, twins written by years of sign-ups.
    call_command("migrate", "authfold", "zero", verbosity=0)
    try:
        maria, twin = legacy_users("maria", "Maria")
        User.objects.filter(pk=maria.pk).update(last_login=timezone.now())
        User.objects.filter(pk=twin.pk).update(last_login=timezone.now() - timedelta(days=400))
    finally:
        call_command("migrate", verbosity=0)

    maria.refresh_from_db()
    twin.refresh_from_db()
    assert (maria.username, twin.username) == ("maria", "Maria_1")
    record = RenameRecord.objects.get()
    assert (record.user_id, record.old_username, record.new_username) == (
        twin.pk,
        "Maria",
        "Maria_1",
    )
