"""The RenameRecord admin: staff can read the log of renames; nobody can change it there."""

import pytest
from django.urls import reverse

from authfold.accounts.models import RenameRecord
from tests.twins import User, bulk_users, resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_a_rename(client):
    bulk_users("maria", "Maria")
    resolve()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_rename_record_admin_lists_the_renames(admin_client_with_a_rename):
    page = admin_client_with_a_rename.get(reverse("admin:authfold_renamerecord_changelist"))
    assert page.status_code == 200
    assert "Maria_1" in page.content.decode()


def test_rename_record_admin_shows_a_record_read_only(admin_client_with_a_rename):
    record = RenameRecord.objects.get()
    page = admin_client_with_a_rename.get(
        reverse("admin:authfold_renamerecord_change", args=[record.pk])
    )
    assert page.status_code == 200
    assert 'name="old_username"' not in page.content.decode()


def test_rename_record_admin_refuses_adding_changing_and_deleting(admin_client_with_a_rename):
    record = RenameRecord.objects.get()
    client = admin_client_with_a_rename
    assert client.get(reverse("admin:authfold_renamerecord_add")).status_code == 403
    changed = client.post(
        reverse("admin:authfold_renamerecord_change", args=[record.pk]),
        {"old_username": "hacked", "new_username": "hacked"},
    )
    assert changed.status_code == 403
    deleted = client.post(
        reverse("admin:authfold_renamerecord_delete", args=[record.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert RenameRecord.objects.get().old_username == "Maria"
