"""``manage.py notify_renamed_users``: each renamed account gets one email with its new name."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django.utils.formats import date_format

from authfold.accounts.models import RenameRecord
from tests.twins import User, bulk_users, resolve

pytestmark = pytest.mark.django_db


def notify(*args):
    out = StringIO()
    call_command("notify_renamed_users", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_notify_emails_each_renamed_account_its_new_username():
    bulk_users("maria", "Maria", email="owner@example.com")
    resolve()
    notify()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert message.subject == "Your username is now Maria_1"
    assert "Maria_1" in message.body and "Your password has not changed" in message.body
    assert RenameRecord.objects.get().notified_at is not None


def test_notify_run_twice_emails_nobody_twice():
    bulk_users("maria", "Maria", "MARIA")
    resolve()
    notify()
    notify()
    assert len(mail.outbox) == 2


def test_notify_dry_run_sends_and_records_nothing():
    bulk_users("maria", "Maria")
    resolve()
    output = notify("--dry-run")
    assert "Would email" in output and "'Maria_1'" in output
    assert mail.outbox == []
    assert RenameRecord.objects.get().notified_at is None


def test_notify_skips_an_account_without_an_email():
    bulk_users("maria", "Maria", email="")
    resolve()
    assert "0 renamed account(s); 1 not reachable" in notify()
    assert mail.outbox == []


def test_notify_uses_the_projects_own_template(settings, tmp_path):
    template_dir = tmp_path / "authfold" / "email"
    template_dir.mkdir(parents=True)
    (template_dir / "username_renamed_subject.txt").write_text(
        "New name: {{ record.new_username }}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    bulk_users("maria", "Maria")
    resolve()
    notify()
    assert mail.outbox[0].subject == "New name: Maria_1"


def test_notify_gives_a_projects_template_the_configured_site(settings, tmp_path):
    template_dir = tmp_path / "authfold" / "email"
    template_dir.mkdir(parents=True)
    (template_dir / "username_renamed_subject.txt").write_text(
        "Your name on {{ site_name }} is now {{ record.new_username }}"
    )
    (template_dir / "username_renamed_body.txt").write_text(
        "Log in: {{ protocol }}://{{ domain }}/accounts/login/"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    settings.AUTHFOLD_SITE_URL = "https://accounts.example.org"
    bulk_users("maria", "Maria")
    resolve()
    notify()
    assert mail.outbox[0].subject == "Your name on accounts.example.org is now Maria_1"
    assert mail.outbox[0].body == "Log in: https://accounts.example.org/accounts/login/"


def test_notify_skips_a_rename_that_was_reverted():
    from authfold.accounts.models import CaselessKey
    from authfold.data_migrations.resolution import revert_resolution

    bulk_users("maria", "Maria")
    resolve()
    revert_resolution(User, CaselessKey, RenameRecord, "default")
    notify()
    assert mail.outbox == []


def test_notify_says_until_when_the_old_username_still_logs_in(settings):
    settings.AUTHFOLD_RENAMED_LOGIN_DAYS = 30
    bulk_users("maria", "Maria")
    resolve()
    renamed_at = timezone.now() - timedelta(days=1)
    RenameRecord.objects.update(created_at=renamed_at)
    notify()
    until = date_format(timezone.localtime(renamed_at + timedelta(days=30)))
    body = " ".join(mail.outbox[0].body.split())
    assert f"For 30 days after the change, until {until}, your old username “Maria”" in body


@pytest.mark.parametrize("why", ["setting off", "period over"])
def test_notify_says_nothing_of_an_old_username_that_no_longer_logs_in(settings, why):
    bulk_users("maria", "Maria")
    resolve()
    if why == "setting off":
        settings.AUTHFOLD_RENAMED_LOGIN_DAYS = 0
    else:
        RenameRecord.objects.update(created_at=timezone.now() - timedelta(days=91))
    notify()
    assert "old username" not in mail.outbox[0].body
    assert "Your password has not changed" in mail.outbox[0].body


def test_notify_promises_nothing_for_an_old_username_that_login_forms_change_before_checking():
    bulk_users("maria", "ＭＡＲＩＡ")  # fullwidth: every login form sends it as MARIA
    resolve()
    assert RenameRecord.objects.get().old_username == "ＭＡＲＩＡ"

    notify()

    assert "old username" not in mail.outbox[0].body
    assert "Your password has not changed" in mail.outbox[0].body
