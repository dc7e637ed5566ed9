"""``manage.py conflict_audit``: find caseless username twins, shared and blank emails; show or
apply the renames that resolve the twins (the same ones migration 0002 makes).

Look-alike usernames (the same skeleton, different names) are reported, never renamed, and do
not count for ``--check``: they are distinct names that block no write (docs/AUDIT.md). A key
row whose skeleton digest is missing or out of date is stale, as one with an old username digest.

Exit codes: 0 done (and, with ``--check``, nothing to repair); 1 ``--check`` found username
conflicts, or users whose caseless key is missing or stale (written around ``Model.save()``); 2
nothing was done (``--fix`` not confirmed, or not possible yet). docs/AUDIT.md has the output
shapes. Addresses whose domain mail systems read two ways (``faß.de``) are listed too, and no CSV
cell starts a spreadsheet formula.
"""

import csv
import io
import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from tqdm import tqdm

from authfold.accounts.caseless import caseless_keys_ready, table_ready
from authfold.accounts.claim_settling import clear_orphan_claims, orphan_claims
from authfold.accounts.email_verification import release_unconfirmed, stale_unconfirmed
from authfold.accounts.keys import claims_ready
from authfold.accounts.models import CaselessKey, IdentifierClaim, RenameRecord, UnconfirmedEmail
from authfold.data_migrations.claims import repair_claims
from authfold.data_migrations.detection import Survey
from authfold.data_migrations.email_claims import grandfathered_email_groups
from authfold.data_migrations.email_domains import deviation_domain_emails
from authfold.data_migrations.keys import (
    backfill_caseless_keys,
    delete_orphan_keys,
    refresh_stale_caseless_keys,
)
from authfold.data_migrations.planning import flatten, plan_resolution
from authfold.data_migrations.resolution import apply_resolution

ACCOUNT_COLUMNS = ("id", "username", "email", "is_active", "last_login", "date_joined")
# The text report lists this many blank emails; json and csv list them all.
TEXT_BLANK_EMAILS_SHOWN = 50
# Below this many users to scan, no progress bar even on a terminal.
PROGRESS_BAR_FROM = 50_000


# What a spreadsheet reads as the start of a formula (OWASP's CSV injection): ``+1+1``, ``=A1``
# and ``@x`` are legal usernames, and a cell must not run when an operator opens the report.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """The cell as written, or, when a spreadsheet would run it, behind a ``'`` (read as text)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SpreadsheetSafeWriter:
    """``csv.writer`` whose cells never start a formula (:func:`spreadsheet_safe`); the JSON
    output keeps every value exact."""

    def __init__(self, stream):
        self.stream = stream
        # Rows are made with "\r\n" ends, so a cell holding a carriage return is quoted too,
        # then written with "\n" ends.
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def writerow(self, row):
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow([spreadsheet_safe(cell) for cell in row])
        self.stream.write(self.buffer.getvalue()[: -len("\r\n")] + "\n", ending="")

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def account_dict(account):
    return {
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "is_active": account.is_active,
        "last_login": account.last_login.isoformat() if account.last_login else None,
        "date_joined": account.date_joined.isoformat(),
    }


def text_row(account):
    when = "%Y-%m-%d %H:%M"
    return (
        account.id,
        account.username,
        account.email,
        "yes" if account.is_active else "no",
        account.last_login.strftime(when) if account.last_login else "never",
        account.date_joined.strftime(when),
    )


def groups_json(groups):
    return [
        {"key": group.key, "users": [account_dict(account) for account in group.accounts]}
        for group in groups
    ]


def table(rows, headers):
    """A plain-text table: columns as wide as their widest cell."""
    rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def release_stale_unconfirmed(using):
    """Free the sign-up addresses never confirmed in time (as ``release_unconfirmed_emails``
    does); returns how many."""
    if not table_ready(UnconfirmedEmail, using):
        return 0
    return sum(release_unconfirmed(row, using) for row in stale_unconfirmed(using).iterator())


def needs_repair(survey):
    """What ``--check`` fails on: username twins, and keys that no longer match their users
    (where the database cannot compute the key, they are how a write around ``save()`` shows)."""
    return bool(survey.username_conflicts()) or survey.keys_out_of_step()


def repair_keys(using):
    """Rewrite the stale key rows, then give a key to the users that have none. In that order:
    a stale row can hold the very digest a keyless user needs."""
    user_model = get_user_model()
    refresh_stale_caseless_keys(user_model, CaselessKey, using)
    backfill_caseless_keys(user_model, CaselessKey, using)
    if claims_ready(using):
        repair_claims(user_model, IdentifierClaim, using)


class Command(BaseCommand):
    help = (
        "Report accounts whose usernames are the same in some case, shared and blank emails, "
        "and caseless keys out of step with their users; --plan shows the renames that resolve "
        "the twins, --fix applies them and repairs the keys, --check exits 1 while any username "
        "conflict or missing or stale key exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json", "csv"], default="text")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--plan", action="store_true", help="Show the renames resolution would make now."
        )
        action.add_argument("--fix", action="store_true", help="Apply those renames (asks first).")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="With --fix: do not ask for confirmation.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help=(
                "Exit with status 1 if any username conflict, or any missing or stale caseless "
                "key, exists (after --fix, if given)."
            ),
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        self.format = options["format"]
        self.using = options["database"]
        survey = self.survey()
        if options["plan"]:
            self.show_plan(survey)
        elif options["fix"]:
            survey = self.fix(survey, options["interactive"])
        else:
            self.report(survey)
        if options["check"] and needs_repair(survey):
            sys.exit(1)

    def survey(self):
        key_model = CaselessKey if caseless_keys_ready(self.using) else None
        return Survey(get_user_model(), key_model, self.using, progress=self.progress_bar())

    def progress_bar(self):
        """A progress callback drawing on standard error when it is a terminal, else none (and
        no count of the users to draw it with)."""
        if not self.stderr._out.isatty():
            return None
        bar = None

        def advance(count):
            nonlocal bar
            if bar is None:
                users = get_user_model()._default_manager.using(self.using).count()
                bar = tqdm(
                    total=users,
                    unit=" users",
                    file=self.stderr._out,  # the stream itself: tqdm asks it isatty()
                    disable=None if users >= PROGRESS_BAR_FROM else True,
                    leave=False,
                )
            bar.update(count)

        return advance

    # The report.

    def report(self, survey):
        usernames = survey.username_conflicts()
        emails = survey.email_conflicts()
        lookalikes = survey.lookalike_groups()
        summary = {
            "users": survey.counts()["users"],
            "username_conflict_groups": len(usernames),
            "accounts_in_username_conflicts": sum(len(g.accounts) for g in usernames),
            "email_conflict_groups": len(emails),
            "accounts_sharing_email": sum(len(g.accounts) for g in emails),
            "blank_emails": 0,
            "unusable_passwords": survey.counts()["unusable_passwords"],
            "users_without_key": survey.users_without_key_count(),
            "stale_keys": survey.stale_keys_count(),
            "orphan_keys": survey.orphan_keys_count(),
            "lookalike_groups": len(lookalikes),
            "accounts_in_lookalike_groups": sum(len(g.accounts) for g in lookalikes),
        }
        self.grandfathered_groups = self.grandfathered(summary)
        self.deviation_emails = deviation_domain_emails(get_user_model(), self.using)
        summary["deviation_domain_emails"] = len(self.deviation_emails)
        self.unconfirmed = self.unconfirmed_emails(summary)
        writer = {"text": self.report_text, "json": self.report_json, "csv": self.report_csv}
        writer[self.format](usernames, emails, survey.blank_emails(), summary, lookalikes)
        if self.format == "text" and self.grandfathered_groups:
            self.report_grandfathered_text(self.grandfathered_groups)
        if self.format == "text" and self.deviation_emails:
            self.report_deviation_emails_text(self.deviation_emails)
        if self.format == "text" and self.unconfirmed:
            self.report_unconfirmed_text(self.unconfirmed)

    def unconfirmed_emails(self, summary):
        """The accounts whose address still waits for its confirmation link (id, username, email,
        since when), counted in ``summary``; ``[]`` before the table exists."""
        if not table_ready(UnconfirmedEmail, self.using):
            return []
        rows = list(
            UnconfirmedEmail.objects.using(self.using)
            .order_by("user_id")
            .values_list("user_id", "user__username", "user__email", "created_at")
        )
        summary["unconfirmed_emails"] = len(rows)
        return rows

    def report_unconfirmed_text(self, rows):
        write = self.stdout.write
        write("")
        write(self.style.MIGRATE_HEADING(f"Unconfirmed email addresses: {len(rows)}"))
        when = "%Y-%m-%d %H:%M"
        write(
            table(
                [(pk, name, email, since.strftime(when)) for pk, name, email, since in rows],
                ("id", "username", "email", "since"),
            )
        )
        write(
            "With AUTHFOLD_EMAIL_VERIFICATION = 'mandatory' these addresses log in and receive "
            "password resets only once confirmed."
        )

    def grandfathered(self, summary):
        """From migration 0007 on: the grandfathered email groups, counted in ``summary`` with
        the claims crashed writes left behind; before it, ``None``."""
        if not claims_ready(self.using):
            return None
        groups = grandfathered_email_groups(get_user_model(), CaselessKey, self.using)
        summary["grandfathered_email_groups"] = len(groups)
        summary["orphan_claims"] = orphan_claims(self.using).count()
        return groups

    def report_grandfathered_text(self, groups):
        write = self.stdout.write
        write("")
        write(
            self.style.MIGRATE_HEADING(
                f"Emails shared before migration 0007 (grandfathered): {len(groups)} group(s)"
            )
        )
        for group in groups:
            rows = [
                (pk, username, email, "grandfathered" if extra else "holds the address")
                for pk, username, email, extra in group
            ]
            write(table(rows, ("id", "username", "email", "claim")))
        write("No new account and no changed email may join these addresses.")

    def report_deviation_emails_text(self, found):
        write = self.stdout.write
        write("")
        write(
            self.style.MIGRATE_HEADING(
                f"Emails whose domain mail systems read two ways (ß, ς, ZWJ, ZWNJ): {len(found)}"
            )
        )
        write(table(found, ("id", "username", "email", "IDNA 2008 domain")))
        write(
            "Django sends their mail to the IDNA 2003 reading of the domain (faß.de to fass.de): "
            "ask each owner to change the address, e.g. to the IDNA 2008 domain shown."
        )

    def report_json(self, usernames, emails, blank_emails, summary, lookalikes):
        # Written piece by piece: the blank emails of a large table never sit in memory at once.
        out = self.stdout
        out.write('{"username_conflicts": ', ending="")
        out.write(json.dumps(groups_json(usernames)), ending="")
        out.write(', "email_conflicts": ', ending="")
        out.write(json.dumps(groups_json(emails)), ending="")
        out.write(', "lookalike_groups": ', ending="")
        out.write(json.dumps(groups_json(lookalikes)), ending="")
        out.write(', "blank_emails": [', ending="")
        for pk, username in blank_emails:
            separator = ", " if summary["blank_emails"] else ""
            out.write(separator + json.dumps({"id": pk, "username": username}), ending="")
            summary["blank_emails"] += 1
        out.write("]", ending="")
        if self.grandfathered_groups is not None:
            groups = [
                [
                    {"id": pk, "username": name, "email": email, "grandfathered": extra}
                    for pk, name, email, extra in group
                ]
                for group in self.grandfathered_groups
            ]
            out.write(', "grandfathered_emails": ' + json.dumps(groups), ending="")
        deviations = [
            {"id": pk, "username": name, "email": email, "idna2008_domain": a_label}
            for pk, name, email, a_label in self.deviation_emails
        ]
        out.write(', "deviation_domain_emails": ' + json.dumps(deviations), ending="")
        unconfirmed = [
            {"id": pk, "username": name, "email": email, "since": since.isoformat()}
            for pk, name, email, since in self.unconfirmed
        ]
        out.write(', "unconfirmed_emails": ' + json.dumps(unconfirmed), ending="")
        out.write(', "summary": ', ending="")
        out.write(json.dumps(summary) + "}")

    def report_csv(self, usernames, emails, blank_emails, summary, lookalikes):
        writer = SpreadsheetSafeWriter(self.stdout)
        writer.writerow(("section", "key", *ACCOUNT_COLUMNS))
        for group in self.grandfathered_groups or ():
            for pk, username, email, extra in group:
                section = "grandfathered_email" if extra else "grandfathered_email_holder"
                writer.writerow((section, "", pk, username, email, "", "", ""))
        for section, groups in (
            ("username_conflict", usernames),
            ("email_conflict", emails),
            ("lookalike", lookalikes),
        ):
            for group in groups:
                for account in group.accounts:
                    writer.writerow((section, group.key, *account_dict(account).values()))
        for pk, username in blank_emails:
            writer.writerow(("blank_email", "", pk, username, "", "", "", ""))
        for pk, username, email, a_label in self.deviation_emails:
            writer.writerow(
                ("deviation_domain_email", a_label or "", pk, username, email, "", "", "")
            )
        for pk, username, email, _since in self.unconfirmed:
            writer.writerow(("unconfirmed_email", "", pk, username, email, "", "", ""))

    def report_text(self, usernames, emails, blank_emails, summary, lookalikes):
        write = self.stdout.write
        for title, groups in (
            ("Usernames shared by more than one account (in some case)", usernames),
            ("Emails shared by more than one account (in some case)", emails),
            ("Different usernames that look alike (a report only: never renamed)", lookalikes),
        ):
            write(self.style.MIGRATE_HEADING(f"{title}: {len(groups)} group(s)"))
            for group in groups:
                write(f"\n{group.key!r}")
                rows = [text_row(account) for account in group.accounts]
                write(table(rows, ("id", "username", "email", "active", "last login", "joined")))
            write("")
        write(self.style.MIGRATE_HEADING("Accounts with a blank email"))
        shown = []
        for pk, username in blank_emails:
            if len(shown) < TEXT_BLANK_EMAILS_SHOWN:
                shown.append((pk, username))
            summary["blank_emails"] += 1
        if shown:
            write(table(shown, ("id", "username")))
        if summary["blank_emails"] > len(shown):
            write(f"... and {summary['blank_emails'] - len(shown)} more (--format csv lists all)")
        write("")
        write(self.style.MIGRATE_HEADING("Summary"))
        for name, value in summary.items():
            write(f"  {name.replace('_', ' ') + ':':<32}{value}")
        if usernames:
            write(
                "\nReview the renames with `manage.py conflict_audit --plan`; `migrate` "
                "(or `conflict_audit --fix`) applies them. Emails are never changed for you."
            )

    # The plan, and applying it.

    def plan(self, survey):
        return plan_resolution(survey.username_conflicts(), survey.username_census())

    def show_plan(self, survey):
        planned = self.plan(survey)
        self.write_renames(planned, flatten(planned))

    def write_renames(self, planned, renames, skipped=()):
        if self.format == "json":
            document = {"renames": [{"id": r.id, "old": r.old, "new": r.new} for r in renames]}
            if skipped:
                document["skipped"] = [
                    {"id": r.id, "old": r.old, "new": r.new, "why": why} for r, why in skipped
                ]
            self.stdout.write(json.dumps(document))
        elif self.format == "csv":
            writer = SpreadsheetSafeWriter(self.stdout)
            writer.writerow(("id", "old", "new"))
            writer.writerows((r.id, r.old, r.new) for r in renames)
        else:
            for group in planned:
                self.stdout.write(group.summary())
            self.stdout.write(f"{len(renames)} rename(s) in {len(planned)} group(s).")
            for rename, why in skipped:
                self.stdout.write(f"Skipped {rename.old!r} (id {rename.id}): {why}")

    def fix(self, survey, interactive):
        tables = connections[self.using].introspection.table_names()
        if not caseless_keys_ready(self.using) or RenameRecord._meta.db_table not in tables:
            raise CommandError(
                "--fix needs django-authfold's tables: run `manage.py migrate` first (its "
                "migration 0002 resolves the twins this command reports).",
                returncode=2,
            )
        # A user deleted around Django's cascade leaves a dead key that holds its name against a
        # new owner: it goes first, with the claims crashed writes left. The keys that are
        # missing or stale are repaired only after the renames, so that the plan still sees which
        # account held each name's key.
        if claims_ready(self.using):
            cleared = clear_orphan_claims(self.using)
            if cleared and self.format == "text":
                self.stdout.write(f"Settled {cleared} claim(s) that crashed writes left.")
        dead = delete_orphan_keys(CaselessKey, self.using)
        if dead and self.format == "text":
            self.stdout.write(f"Deleted {dead} caseless key row(s) whose user was gone.")
        survey = self.survey()
        planned = self.plan(survey)
        renames = flatten(planned)
        if renames and interactive:
            for group in planned:
                self.stderr.write(group.summary())
            if not self.confirm(f"Rename {len(renames)} account(s) as shown? [y/N] "):
                raise CommandError("Nothing changed.", returncode=2)
        result = apply_resolution(get_user_model(), CaselessKey, RenameRecord, renames, self.using)
        self.write_renames(planned, result.renamed, result.skipped)
        try:
            repair_keys(self.using)
        except IntegrityError as error:
            # Only when a rename was skipped and the database already refuses twins (0003).
            raise CommandError(
                "Some accounts still share a username (see the skipped renames above), so they "
                "cannot get a caseless key yet; run `conflict_audit --fix` again.",
                returncode=2,
            ) from error
        released = release_stale_unconfirmed(self.using)
        if released and self.format == "text":
            self.stdout.write(f"Released {released} unconfirmed address(es) held too long.")
        return self.survey()

    def confirm(self, question):
        self.stderr.write(question, ending="")
        try:
            return input().strip().lower() in {"y", "yes"}
        except EOFError:
            return False
