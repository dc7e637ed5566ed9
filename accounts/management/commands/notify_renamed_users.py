"""``manage.py notify_renamed_users``: email each account that conflict resolution renamed its new
username, once. The message comes from two templates a project can override:
``authfold/email/username_renamed_subject.txt`` and ``authfold/email/username_renamed_body.txt``
(context: ``record``, a RenameRecord, ``user``, ``old_username_works_until`` and
``renamed_login_days``; with ``AUTHFOLD_SITE_URL`` set, also ``site_name``, ``domain`` and
``protocol``, as in our other mails: a command has no request to name the site otherwise).
"""

from django.core.mail import EmailMessage
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS
from django.template.loader import render_to_string
from django.utils import timezone

from authfold.accounts.caseless import email_key
from authfold.accounts.conf import authfold_setting
from authfold.accounts.mail_site import configured_mail_site
from authfold.accounts.models import RenameRecord

SUBJECT_TEMPLATE = "authfold/email/username_renamed_subject.txt"
BODY_TEMPLATE = "authfold/email/username_renamed_body.txt"


def renamed_message(record):
    """The email telling ``record.user`` its new username, and until when the old one works."""
    works_until = record.old_username_works_until
    context = {
        "record": record,
        "user": record.user,
        # None when the old name no longer logs in (the setting is off, or the period is over).
        "old_username_works_until": works_until
        if works_until and works_until > timezone.now()
        else None,
        "renamed_login_days": authfold_setting("AUTHFOLD_RENAMED_LOGIN_DAYS"),
    }
    site = configured_mail_site()
    if site is not None:
        context.update(site.context())
    # A subject must be one line, whatever the template's line breaks.
    subject = " ".join(render_to_string(SUBJECT_TEMPLATE, context).split())
    body = render_to_string(BODY_TEMPLATE, context)
    return EmailMessage(subject, body, to=[record.user.email])


class Command(BaseCommand):
    help = (
        "Email each account renamed by conflict resolution its new username. Records who was "
        "emailed, so running it again emails nobody twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would be emailed; send nothing."
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, dry_run, database, **options):
        pending = (
            RenameRecord.objects.using(database)
            .filter(notified_at__isnull=True, reverted_at__isnull=True, user__isnull=False)
            .select_related("user")
            .order_by("id")
        )
        sent, unreachable = 0, []
        for record in pending:
            user = record.user
            if email_key(user.email) is None:
                unreachable.append((record, "has no email address"))
                continue
            if user.username != record.new_username:
                unreachable.append((record, f"has been renamed again, to {user.username!r}"))
                continue
            if dry_run:
                self.stdout.write(
                    f"Would email {user.email} (id {user.pk}): "
                    f"{record.old_username!r} is now {record.new_username!r}"
                )
            else:
                # The project's default email backend (EMAIL_BACKEND, or MAILERS on Django 6.1+).
                renamed_message(record).send()
                # Marked one by one, so a failure half-way never makes a rerun email twice.
                RenameRecord.objects.using(database).filter(pk=record.pk).update(
                    notified_at=timezone.now()
                )
            sent += 1
        for record, why in unreachable:
            self.stderr.write(
                f"Not emailed: account {record.user_id} ({record.new_username!r}) {why}."
            )
        verb = "Would email" if dry_run else "Emailed"
        self.stdout.write(f"{verb} {sent} renamed account(s); {len(unreachable)} not reachable.")
