"""``manage.py release_unconfirmed_emails``: free the sign-up addresses that waited for their
confirmation longer than ``AUTHFOLD_EMAIL_CONFIRMATION_DAYS``, so that an address someone signed
up with and never confirmed does not keep its real owner out. Run it from cron (daily is enough).

Each such account keeps its username and password and loses the address; its next profile
change must add one. Exit code 0; ``--dry-run`` lists without changing anything.
"""

import json

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from authfold.accounts.email_verification import release_unconfirmed, stale_unconfirmed


class Command(BaseCommand):
    help = (
        "Free the sign-up addresses never confirmed within AUTHFOLD_EMAIL_CONFIRMATION_DAYS: "
        "their accounts keep their names and lose the address."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List them; change nothing.")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        using = options["database"]
        released = []
        for row in stale_unconfirmed(using).iterator():
            if options["dry_run"] or release_unconfirmed(row, using):
                released.append({"user": row.user_id, "email": row.email})
        if options["format"] == "json":
            self.stdout.write(json.dumps({"released": released, "dry_run": options["dry_run"]}))
            return
        verb = "Would release" if options["dry_run"] else "Released"
        for entry in released:
            self.stdout.write(f"{verb} {entry['email']} (user {entry['user']})")
        self.stdout.write(f"{verb} {len(released)} unconfirmed address(es).")
