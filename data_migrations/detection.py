"""Finding the accounts that clash: usernames (and emails) that are the same under
:mod:`authfold.accounts.caseless`, keys that no longer match their user, blank emails, and
accounts without a usable password.

One pass (:class:`KeyCheck`) reads the users, in primary-key pages, with their key rows
(:class:`authfold.accounts.models.CaselessKey`, after migration 0001), and computes their keys
the one way :mod:`authfold.accounts.caseless` defines them. From migration 0014 on it reads only
the users whose key row does not vouch for itself (:func:`not_vouched_for`: the database compares
the texts the row was computed from with the user's); before, every user, and the database finds
the twins among the rows that match (``GROUP BY username_digest HAVING COUNT(*) > 1``). A user
with no key row, or whose row no longer matches (written around ``Model.save()``:
``bulk_create``, ``update()``, raw SQL) is a *suspect*: only a 64-bit hash of its key and its id
are kept (:class:`KeyHashes`, 16 bytes a suspect, so memory stays bounded at millions of users),
and its fresh digest is looked up in the key table, page by page. Before our migrations there is
no key table and every user is a suspect.

SQLite and MariaDB/MySQL cannot compute the key themselves (no Unicode NFKC, and their case
folding is ASCII-only or collation-bound), so on them this pass is the only place where a write
around ``save()`` becomes visible.

Every function takes the models (real, or historical from ``apps.get_model``) and a database
alias; ``key_model`` is ``None`` when the key table does not exist on that database.
"""

import bisect
from array import array
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.db import connections, transaction
from django.db.models import Count, F, Func, Q, TextField
from django.db.models.functions import Collate

from authfold.accounts.caseless import (
    digest,
    email_key,
    key_sources_ready,
    skeleton_digest,
    skeleton_digests_ready,
    username_key,
    username_skeleton,
)
from authfold.accounts.key_rows import orphan_keys

PAGE_SIZE = 5000
# Digests per ``IN (...)`` list: below SQLite's oldest limit of 999 bound parameters.
DIGESTS_PER_QUERY = 900
ACCOUNT_FIELDS = ("pk", "username", "email", "is_active", "last_login", "date_joined")
HASH_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Account:
    """What the audit shows, and the resolution policy weighs, about one account."""

    id: int
    username: str
    email: str
    is_active: bool
    last_login: datetime | None
    date_joined: datetime
    # Whether its key row holds its username's digest: the account the database knew by the name,
    # which keeps it against twins written around the rule (see planning.plan_resolution).
    holds_key: bool = False

    @classmethod
    def from_row(cls, row):
        return cls(*row)


@dataclass
class ConflictGroup:
    """Accounts whose usernames (or emails) share one caseless ``key``; ordered by id."""

    key: str
    accounts: list[Account] = field(default_factory=list)


def key_hash(key):
    """A 64-bit hash of a key, for the scan. Python's own ``hash`` is fast and stable within one
    process, which is as long as a scan's hashes live; a collision only costs a second look."""
    return hash(key) & HASH_MASK


class KeyHashes:
    """A multiset of 64-bit key hashes in 256 sorted ``array`` buckets: 8 bytes per key, and
    sorting works one bucket at a time so it never needs a Python object per user."""

    def __init__(self):
        self.buckets = [array("Q") for _ in range(256)]
        self.sorted = True

    def add(self, key):
        value = key_hash(key)
        self.buckets[value & 0xFF].append(value)
        self.sorted = False

    def add_hashes(self, values):
        """Add many ``key_hash`` values at once."""
        buckets = self.buckets
        for value in values:
            buckets[value & 0xFF].append(value)
        self.sorted = False

    def _sort(self):
        if not self.sorted:
            self.buckets = [array("Q", sorted(bucket)) for bucket in self.buckets]
            self.sorted = True

    def __len__(self):
        return sum(len(bucket) for bucket in self.buckets)

    def __contains__(self, key):
        self._sort()
        value = key_hash(key)
        bucket = self.buckets[value & 0xFF]
        index = bisect.bisect_left(bucket, value)
        return index < len(bucket) and bucket[index] == value

    def repeated(self):
        """The hashes that occur more than once (candidates for twins)."""
        self._sort()
        repeated = set()
        for bucket in self.buckets:
            for index in range(1, len(bucket)):
                if bucket[index] == bucket[index - 1]:
                    repeated.add(bucket[index])
        return repeated


def chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def pages(queryset, fields, page_size=PAGE_SIZE):
    """Rows of ``queryset`` in primary-key order, one page per query (keyset pagination).

    Not ``.iterator()``: MariaDB's client library would load the whole result into memory.
    """
    last_pk = None
    while True:
        page = queryset.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        rows = list(page.values_list(*fields)[:page_size])
        if not rows:
            return
        last_pk = rows[-1][0]
        yield rows


ACCOUNT_FIELDS_WITH_KEY = (*ACCOUNT_FIELDS, "caseless_key__username_digest")
KINDS = ("username", "email")


def accounts_with_key_state(users, keyed):
    """The :class:`Account` of each user in ``users``, ``holds_key`` filled in when ``keyed``."""
    if not keyed:
        return [Account.from_row(row) for row in users.values_list(*ACCOUNT_FIELDS)]
    return [
        Account(*row[:-1], holds_key=row[-1] == digest(username_key(row[1])))
        for row in users.values_list(*ACCOUNT_FIELDS_WITH_KEY)
    ]


class Survey:
    """The clashes in one database's users, found once and then read as often as needed.

    ``progress``, if given, is called with the number of users each scanned page covered.
    """

    def __init__(self, user_model, key_model, using, progress=None):
        self.users = user_model._default_manager.using(using)
        self.key_model = key_model
        self.keys = key_model._default_manager.using(using) if key_model is not None else None
        # Once key rows keep their sources (migration 0014), those that vouch for themselves are
        # trusted by the database, and only the others reach Python (see not_vouched_for).
        self.vouching = (
            key_model is not None
            and any(field.name == "username_source" for field in key_model._meta.fields)
            and key_sources_ready(using)
        )
        self.using = using
        self.progress = progress
        self._check = None
        self._user_counts = None
        self._orphan_keys = None
        self._groups = {}

    # The one pass, and what it counted.

    def check(self):
        """Every user read once, its keys computed and compared with its key row (see
        :class:`KeyCheck`)."""
        if self._check is None:
            self._check = KeyCheck(self)
            self._check.run()
        return self._check

    def counts(self):
        """How many users, and how many of them cannot log in with a password (informational:
        single sign-on, invitations)."""
        return {
            "users": self.check().users,
            "unusable_passwords": self.user_counts()["unusable_passwords"],
        }

    def user_counts(self):
        """The users, and those without a usable password, counted in one scan."""
        if self._user_counts is None:
            unusable = Q(password="") | Q(password__startswith="!")
            self._user_counts = self.users.aggregate(
                users=Count("pk"), unusable_passwords=Count("pk", filter=unusable)
            )
        return self._user_counts

    def users_without_key_count(self):
        """Users with no key row (all of them before migration 0001)."""
        return self.check().missing

    def stale_keys_count(self):
        """Users whose key row no longer matches their username or email (written around
        ``Model.save()``); 0 with no key table."""
        return self.check().stale

    def orphan_keys_count(self):
        """Key rows whose user is gone (deleted around Django's cascade); 0 with no key table."""
        if self._orphan_keys is None:
            self._orphan_keys = 0
            # Every key row but the dead ones belongs to a user the pass saw with its row.
            if self.keys is not None and self.keys.count() != self.check().keyed:
                self._orphan_keys = orphan_keys(self.key_model, self.using).count()
        return self._orphan_keys

    def keys_out_of_step(self):
        """Whether some user lacks a key row or has one that no longer matches it (only once the
        key table exists: before our migrations no user has one, and that is expected)."""
        return self.keys is not None and bool(
            self.users_without_key_count() or self.stale_keys_count()
        )

    # The findings.

    def username_conflicts(self):
        """Groups of two or more accounts whose usernames are the same, ordered by key."""
        return self._conflicts("username")

    def email_conflicts(self):
        """Groups of two or more accounts sharing an email (in any case), ordered by key."""
        return self._conflicts("email")

    def blank_emails(self):
        """``(id, username)`` of each account with a blank email, streamed in id order."""
        for batch in chunks(self.check().blank_emails, DIGESTS_PER_QUERY):
            yield from self.users.filter(pk__in=batch).order_by("pk").values_list("pk", "username")

    def lookalike_groups(self):
        """Groups of accounts whose usernames differ but look alike (the same skeleton digest,
        ``AUTHFOLD_REFUSE_LOOKALIKES``), keyed by the skeleton, ordered by it; none without
        skeleton digests (no key table, or before migration 0006). A report only: the database
        groups the indexed digests, and only the groups' accounts reach Python."""
        if "lookalikes" not in self._groups:
            self._groups["lookalikes"] = self._find_lookalikes() if self.has_skeletons() else []
        return self._groups["lookalikes"]

    def has_skeletons(self):
        """Whether the key table has its skeleton digest column (migration 0006), in the model
        surveyed too (a historical one of an earlier migration has none)."""
        return (
            self.keys is not None
            and any(field.name == "skeleton_digest" for field in self.key_model._meta.fields)
            and skeleton_digests_ready(self.using)
        )

    def _find_lookalikes(self):
        # Several accounts with one skeleton and one username key are twins, reported above.
        # A username digest is unique in the key table (from migration 0003 on): counting the
        # rows counts the names, from the skeleton index alone (in its order: no COLLATE here).
        names = Count("*") if self.vouching else Count("username_digest", distinct=True)
        digests = (
            self.keys.filter(skeleton_digest__isnull=False)
            .values("skeleton_digest")
            .annotate(names=names)
            .filter(names__gt=1)
            .values_list("skeleton_digest", flat=True)
        )
        by_skeleton = {}
        for batch in chunks(sorted(digests), DIGESTS_PER_QUERY):
            rows = self.users.filter(caseless_key__skeleton_digest__in=batch).values_list(
                *ACCOUNT_FIELDS
            )
            for row in rows:
                account = Account.from_row(row)
                by_skeleton.setdefault(username_skeleton(account.username), []).append(account)
        return [
            ConflictGroup(skeleton, sorted(members, key=lambda account: account.id))
            for skeleton, members in sorted(by_skeleton.items())
        ]

    def username_census(self):
        """Which usernames exist, for the planner to check new names against."""
        return UsernameCensus(self)

    def _conflicts(self, kind):
        if kind not in self._groups:
            self._groups[kind] = self._find_conflicts(kind)
        return self._groups[kind]

    def _find_conflicts(self, kind):
        """Candidates from the database's grouping of trusted digests and from the suspects,
        then grouped here by the key itself (a shared stale digest is no conflict)."""
        key_of = username_key if kind == "username" else email_key
        check = self.check()
        keyed = self.keys is not None
        accounts = []
        for batch in chunks(check.suspects_to_look_at(kind), DIGESTS_PER_QUERY):
            accounts += accounts_with_key_state(self.users.filter(pk__in=batch), keyed)
        digests = set(check.bridged_digests[kind])
        if keyed:
            digests |= self.shared_digests(kind)
        column = f"caseless_key__{kind}_digest"
        for batch in chunks(sorted(digests), DIGESTS_PER_QUERY):
            holders = self.users.filter(**{f"{column}__in": batch})
            accounts += accounts_with_key_state(holders, keyed)
        by_key = {}
        for account in accounts:
            key = key_of(getattr(account, kind))
            if key is not None:
                by_key.setdefault(key, {})[account.id] = account
        return [
            ConflictGroup(key, sorted(members.values(), key=lambda account: account.id))
            for key, members in sorted(by_key.items())
            if len(members) > 1
        ]

    def shared_digests(self, kind):
        """The digests more than one key row holds, grouped by the database.

        Once key rows vouch for themselves, no grouping: usernames are unique in the key table
        (its constraint), and of the rows sharing an address at most one holds its claim and is
        vouched for, so the pass has read the others. Otherwise grouped (see :func:`hex_text`).
        """
        if self.vouching:
            return set() if kind == "username" else self.check().unvouched_email_digests
        column = f"{kind}_digest"
        return set(
            self.keys.filter(**{f"{column}__isnull": False})
            .values(shared=hex_text(self.using, column))
            .annotate(accounts=Count("*"))
            .filter(accounts__gt=1)
            .values_list("shared", flat=True)
        )


def hex_text(using, column):
    """A digest column to group by: on PostgreSQL byte by byte (``COLLATE "C"``), since digests
    are ASCII hex and grouping a million of them under the database's locale collation took
    longer than the whole audit."""
    if connections[using].vendor == "postgresql":
        return Collate(column, "C")
    return F(column)


def streamed_pages(queryset, fields, page_size=PAGE_SIZE):
    """Rows of ``queryset`` in primary-key order, a page at a time: from one statement where the
    database streams it (a server-side cursor on PostgreSQL, SQLite's own stepping), else by
    :func:`pages`. Call it inside a transaction: outside one, PostgreSQL would first copy the
    whole result aside (``WITH HOLD``). (Keyset pages over the join made PostgreSQL hash the whole
    key table once per page.)"""
    if connections[queryset.db].vendor == "mysql":
        yield from pages(queryset, fields, page_size)
        return
    rows = queryset.order_by("pk").values_list(*fields).iterator(chunk_size=page_size)
    while page := list(islice(rows, page_size)):
        yield page


class ExactText(Func):
    """A text for a byte-for-byte comparison: on MariaDB/MySQL, whose collations equate case,
    accents and trailing spaces, its bytes (``CAST(... AS BINARY)``); elsewhere the text itself,
    whose comparison already is exact."""

    template = "%(expressions)s"
    output_field = TextField()

    def as_mysql(self, compiler, connection, **extra_context):
        template = "CAST(%(expressions)s AS BINARY)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def not_vouched_for(users):
    """The users whose key row does not vouch for itself: it was computed from exactly the
    username and email the user has now (its sources), has its skeleton, and holds its address's
    claim. The database finds them with one join, so only they reach Python: users written around
    ``save()``, key rows left behind by a crash or not written since migration 0014, blank emails,
    grandfathered addresses (so that shared ones show), a case changed through ``save()`` (its
    key row keeps the first spelling, whose key is the same)."""
    model = users.model
    users = users.alias(
        username_source=ExactText("caseless_key__username_source"),
        username_now=ExactText(model.USERNAME_FIELD),
        email_source=ExactText("caseless_key__email_source"),
        email_now=ExactText(model.get_email_field_name()),
    )
    vouched = Q(
        caseless_key__username_source__isnull=False,
        caseless_key__email_source__isnull=False,
        caseless_key__skeleton_digest__isnull=False,
        caseless_key__email_claim__isnull=False,
        username_source=F("username_now"),
        email_source=F("email_now"),
        caseless_key__email_claim=F("caseless_key__email_digest"),
    )
    return users.filter(~vouched)


class KeyCheck:
    """One pass over the users (those not vouched for, from migration 0014 on), in primary-key
    pages: their keys, computed here, against their key rows. Counts the users, those with a row
    (``keyed``), without one (``missing``) and with a row that no longer matches (``stale``);
    keeps the ids of blank emails; and for each suspect (no row, or a stale digest of that kind)
    its id and a 64-bit hash of its key, and the digests of the suspects' keys that a key row
    already holds (``bridged_digests``). Once migration 0006 has run, a row whose skeleton
    digest is missing or not the username's is stale too (the look-alike check would miss it;
    ``conflict_audit --fix`` rewrites it)."""

    def __init__(self, survey):
        self.survey = survey
        self.users = 0
        # How many users reached Python (with vouching key rows, only those not vouched for).
        self.read = 0
        self.keyed = 0
        self.missing = 0
        self.stale = 0
        self.blank_emails = array("q")
        self.suspect_ids = {kind: array("q") for kind in KINDS}
        self.suspect_hashes = {kind: array("Q") for kind in KINDS}
        self.bridged_ids = {kind: set() for kind in KINDS}
        self.bridged_digests = {kind: set() for kind in KINDS}
        # The email digests in the key rows of the users read here when vouching (those not
        # vouched for), where any address two key rows share shows up.
        self.unvouched_email_digests = set()
        self.hashes = {kind: KeyHashes() for kind in KINDS}

    def run(self):
        survey = self.survey
        keyed = survey.keys is not None
        fields = ("pk", "username", "email")
        if keyed:
            fields += ("caseless_key__username_digest", "caseless_key__email_digest")
            if survey.has_skeletons():
                fields += ("caseless_key__skeleton_digest",)
        users = survey.users
        if survey.vouching:
            users = not_vouched_for(users)
        with transaction.atomic(using=survey.using):
            total = survey.user_counts()["users"] if survey.vouching else None
            for rows in streamed_pages(users, fields):
                self.read += len(rows)
                fresh = self.check_page(rows) if keyed else self.hash_page(rows)
                for kind in KINDS:
                    if fresh[kind]:
                        self.bridge(kind, fresh[kind])
                if survey.progress:
                    survey.progress(len(rows))
        if total is not None:
            # Every user not read vouched for its key row.
            vouched = total - self.read
            self.users, self.keyed = total, self.keyed + vouched
            if survey.progress:
                survey.progress(vouched)
        for kind in KINDS:
            self.hashes[kind].add_hashes(self.suspect_hashes[kind])

    def hash_page(self, rows):
        """No key table: every user is a suspect, and there is nothing to bridge to."""
        self.users += len(rows)
        self.missing += len(rows)
        ids, hashes = self.suspect_ids, self.suspect_hashes
        for pk, username, email in rows:
            ids["username"].append(pk)
            hashes["username"].append(hash(username_key(username)) & HASH_MASK)
            key = email_key(email)
            if key is None:
                self.blank_emails.append(pk)
            else:
                ids["email"].append(pk)
                hashes["email"].append(hash(key) & HASH_MASK)
        return {"username": None, "email": None}

    def check_page(self, rows):
        """Compare each user's keys with its row; returns the suspects' fresh digests, by kind,
        as {digest: [id, ...]}."""
        self.users += len(rows)
        fresh = {"username": {}, "email": {}}
        ids, hashes = self.suspect_ids, self.suspect_hashes
        vouching = self.survey.vouching
        # The loop the audit's time goes to: every user, two keys and two digests (and the
        # skeleton's, only for a row whose other two match).
        for pk, username, email, stored_username, stored_email, *stored_skeleton in rows:
            ukey = username_key(username)
            udigest = digest(ukey)
            ekey = email_key(email)
            edigest = None if ekey is None else digest(ekey)
            if ekey is None:
                self.blank_emails.append(pk)
            if stored_username is None:
                self.missing += 1
            else:
                self.keyed += 1
                if stored_email is not None and vouching:
                    self.unvouched_email_digests.add(stored_email)
                if (
                    stored_username == udigest
                    and stored_email == edigest
                    and (not stored_skeleton or stored_skeleton[0] == skeleton_digest(username))
                ):
                    continue
                self.stale += 1
            if stored_username != udigest:
                ids["username"].append(pk)
                hashes["username"].append(hash(ukey) & HASH_MASK)
                fresh["username"].setdefault(udigest, []).append(pk)
            if ekey is not None and (stored_username is None or stored_email != edigest):
                ids["email"].append(pk)
                hashes["email"].append(hash(ekey) & HASH_MASK)
                fresh["email"].setdefault(edigest, []).append(pk)
        return fresh

    def bridge(self, kind, fresh):
        """Ask the key table which of the suspects' fresh digests a key row already holds."""
        column = f"{kind}_digest"
        for batch in chunks(sorted(fresh), DIGESTS_PER_QUERY):
            found = self.survey.keys.filter(**{f"{column}__in": batch}).values_list(
                column, flat=True
            )
            for held in found:
                self.bridged_digests[kind].add(held)
                self.bridged_ids[kind].update(fresh[held])

    def suspects_to_look_at(self, kind):
        """The ids of the suspects that may be in a group: their hash repeats among the
        suspects, or a key row holds their digest."""
        repeated = self.hashes[kind].repeated()
        picked = set(self.bridged_ids[kind])
        if repeated:
            picked.update(
                pk
                for pk, value in zip(self.suspect_ids[kind], self.suspect_hashes[kind], strict=True)
                if value in repeated
            )
        return sorted(picked)


class UsernameCensus:
    """Answers "is this username (in any case) taken?" for many names at once: keyed users through
    the key table's index, suspects through the pass's hashes."""

    def __init__(self, survey):
        self.survey = survey

    def taken(self, usernames):
        """The subset of ``usernames`` that some existing account already has, in some case."""
        usernames = list(usernames)
        hashes = self.survey.check().hashes["username"]
        taken = {name for name in usernames if username_key(name) in hashes}
        if self.survey.keys is not None:
            by_digest = {}
            for name in usernames:
                by_digest.setdefault(digest(username_key(name)), []).append(name)
            for batch in chunks(sorted(by_digest), DIGESTS_PER_QUERY):
                for found in self.survey.keys.filter(username_digest__in=batch).values_list(
                    "username_digest", flat=True
                ):
                    taken.update(by_digest[found])
        return taken
