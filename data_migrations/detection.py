"""Finding the accounts that clash: usernames (and emails) that are the same under
:mod:`authfold.accounts.caseless`, blank emails, and accounts without a usable password.

Two ways to find twins, with the same answer:

- **The key table** (:class:`authfold.accounts.models.CaselessKey`, after migration 0001): the database
  groups the indexed digests (``GROUP BY username_digest HAVING COUNT(*) > 1``), so the work that
  reaches Python grows with the conflicts, not with the users.
- **A scan**, for users with no key row: every user on a copy of production taken before our
  migrations (no key table yet), or users written around ``Model.save()`` since (``bulk_create``,
  raw SQL). Users are read in primary-key pages and only a 64-bit hash of each key is kept
  (:class:`KeyHashes`, 8 bytes a user), so memory stays bounded at millions of users.

Every function takes the models (real, or historical from ``apps.get_model``) and a database
alias; ``key_model`` is ``None`` when the key table does not exist on that database.
"""

import bisect
from array import array
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import Substr

from authfold.accounts.caseless import (
    digest,
    email_key,
    skeleton_digests_ready,
    username_key,
    username_skeleton,
)
from authfold.accounts.keys import orphan_keys

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

    def add_all(self, keys):
        """Add many keys at once (the scan's inner loop, kept tight)."""
        buckets = self.buckets
        for key in keys:
            value = hash(key) & HASH_MASK
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


# What ``str.strip()`` removes: every such character is in the Basic Multilingual Plane.
WHITESPACE = [chr(code) for code in range(0x10000) if chr(code).isspace()]


def blank_email_candidates(users):
    """The users whose email may be blank: NULL, empty, or starting with a character
    ``str.strip()`` removes (a whitespace-only address starts with one). One cheap test per row:
    a regular expression would make SQLite call back into Python for every row."""
    return users.alias(first_character=Substr("email", 1, 1)).filter(
        Q(email__isnull=True) | Q(email="") | Q(first_character__in=WHITESPACE)
    )


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


class Survey:
    """The clashes in one database's users, found once and then read as often as needed.

    ``progress``, if given, is called with the number of users each scanned page covered.
    """

    def __init__(self, user_model, key_model, using, progress=None):
        self.users = user_model._default_manager.using(using)
        self.key_model = key_model
        self.keys = key_model._default_manager.using(using) if key_model is not None else None
        self.using = using
        self.progress = progress
        self._scan = None
        self._counts = None
        self._without_key = None
        self._orphan_keys = None
        self._groups = {}

    # How many, and which, users have no key row.

    def counts(self):
        """How many users, and how many of them cannot log in with a password (informational:
        single sign-on, invitations), in one pass over the table."""
        if self._counts is None:
            self._counts = self.users.aggregate(
                users=Count("pk"),
                unusable_passwords=Count("pk", filter=Q(password="") | Q(password__startswith="!")),
            )
        return self._counts

    def users_without_key_count(self):
        """Users with no key row (all of them before migration 0001)."""
        if self._without_key is None:
            if self.keys is None:
                self._without_key = self.counts()["users"]
            # Every key row but the dead ones belongs to a user: equal counts mean none lacks one.
            elif self.counts()["users"] == self.keys.count() - self.orphan_keys_count():
                self._without_key = 0
            else:
                self._without_key = self.users.filter(caseless_key__isnull=True).count()
        return self._without_key

    def orphan_keys_count(self):
        """Key rows whose user is gone (deleted around Django's cascade); 0 with no key table."""
        if self._orphan_keys is None:
            keyed = self.key_model is not None
            self._orphan_keys = orphan_keys(self.key_model, self.using).count() if keyed else 0
        return self._orphan_keys

    def unkeyed_users(self):
        if self.keys is None:
            return self.users.all()
        return self.users.filter(caseless_key__isnull=True)

    def scan(self):
        """Hashes of the keys of the users without a key row, read once."""
        if self._scan is None:
            self._scan = UnkeyedScan(self)
            self._scan.run()
        return self._scan

    # The findings.

    def username_conflicts(self):
        """Groups of two or more accounts whose usernames are the same, ordered by key."""
        return self._conflicts("username")

    def email_conflicts(self):
        """Groups of two or more accounts sharing an email (in any case), ordered by key."""
        return self._conflicts("email")

    def blank_emails(self):
        """``(id, username)`` of each account with a blank email, streamed in id order."""
        # The database narrows; authfold.accounts.caseless decides.
        candidates = blank_email_candidates(self.users)
        for rows in pages(candidates, ("pk", "username", "email")):
            for pk, username, email in rows:
                if email_key(email) is None:
                    yield pk, username

    def lookalike_groups(self):
        """Groups of accounts whose usernames differ but look alike (the same skeleton digest,
        ``AUTHFOLD_REFUSE_LOOKALIKES``), keyed by the skeleton, ordered by it; none without
        skeleton digests (no key table, or before migration 0006). A report only: the database
        groups the indexed digests, and only the groups' accounts reach Python."""
        if "lookalikes" not in self._groups:
            self._groups["lookalikes"] = self._find_lookalikes() if self.has_skeletons() else []
        return self._groups["lookalikes"]

    def has_skeletons(self):
        """Whether the key table has its skeleton digest column (migration 0006)."""
        return self.keys is not None and skeleton_digests_ready(self.using)

    def _find_lookalikes(self):
        # Several accounts with one skeleton and one username key are twins, reported above.
        digests = (
            self.keys.filter(skeleton_digest__isnull=False)
            .values("skeleton_digest")
            .annotate(names=Count("username_digest", distinct=True))
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
        key_of = username_key if kind == "username" else email_key
        column = f"{kind}_digest"
        scan = self.scan()
        digests = set(scan.bridged_digests[kind])
        if self.keys is not None:
            digests |= set(
                self.keys.filter(**{f"{column}__isnull": False})
                .values(column)
                .annotate(accounts=Count("*"))
                .filter(accounts__gt=1)
                .values_list(column, flat=True)
            )
        accounts = list(scan.members[kind])
        for batch in chunks(sorted(digests), DIGESTS_PER_QUERY):
            keyed = self.keys.filter(**{f"{column}__in": batch}).values("user_id")
            rows = self.users.filter(pk__in=keyed).values_list(*ACCOUNT_FIELDS)
            accounts.extend(Account.from_row(row) for row in rows)
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


class UnkeyedScan:
    """Two passes over the users without a key row (none when every user has one).

    The first keeps a hash of each username and email key, and asks the key table which of those
    keys keyed users already have (``bridged_digests``); the second fetches the accounts whose
    hash repeats or that bridge to a keyed user (``members``).
    """

    def __init__(self, survey):
        self.survey = survey
        self.usernames = KeyHashes()
        self.emails = KeyHashes()
        self.bridged_digests = {"username": set(), "email": set()}
        self.members = {"username": [], "email": []}
        self.count = 0

    def run(self):
        survey = self.survey
        if survey.keys is not None and survey.users_without_key_count() == 0:
            return
        unkeyed = survey.unkeyed_users()
        fields = ("pk", "username", "email")
        for rows in pages(unkeyed, fields):
            self.count += len(rows)
            ukeys = [username_key(username) for _pk, username, _email in rows]
            ekeys = [key for key in (email_key(email) for _pk, _u, email in rows) if key]
            self.usernames.add_all(ukeys)
            self.emails.add_all(ekeys)
            if survey.keys is not None:
                self.bridged_digests["username"] |= self._keyed("username", ukeys)
                self.bridged_digests["email"] |= self._keyed("email", ekeys)
            if survey.progress:
                survey.progress(len(rows))
        repeated = {"username": self.usernames.repeated(), "email": self.emails.repeated()}
        if not any(repeated.values()) and not any(self.bridged_digests.values()):
            return
        # The second pass only picks ids; the accounts' details are read for those ids alone.
        picked = {"username": [], "email": []}
        for rows in pages(unkeyed, fields):
            for pk, username, email in rows:
                for kind, key in (
                    ("username", username_key(username)),
                    ("email", email_key(email)),
                ):
                    if key is not None and (
                        (hash(key) & HASH_MASK) in repeated[kind]
                        or (
                            self.bridged_digests[kind] and digest(key) in self.bridged_digests[kind]
                        )
                    ):
                        picked[kind].append(pk)
        for kind, pks in picked.items():
            for batch in chunks(pks, DIGESTS_PER_QUERY):
                rows = survey.users.filter(pk__in=batch).values_list(*ACCOUNT_FIELDS)
                self.members[kind].extend(Account.from_row(row) for row in rows)

    def _keyed(self, kind, keys):
        """The digests of ``keys`` that some keyed user already has."""
        column = f"{kind}_digest"
        found = set()
        for batch in chunks(sorted({digest(key) for key in keys}), DIGESTS_PER_QUERY):
            found.update(
                self.survey.keys.filter(**{f"{column}__in": batch}).values_list(column, flat=True)
            )
        return found


class UsernameCensus:
    """Answers "is this username (in any case) taken?" for many names at once: keyed users through
    the key table's index, users without a key through the scan's hashes."""

    def __init__(self, survey):
        self.survey = survey

    def taken(self, usernames):
        """The subset of ``usernames`` that some existing account already has, in some case."""
        usernames = list(usernames)
        hashes = self.survey.scan().usernames
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
