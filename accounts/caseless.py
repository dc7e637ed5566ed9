"""The one definition of "the same username" (and "the same email"), and the lookups that match it.

Two usernames are the same when their *identifier caseless match* keys are equal:
``NFKC(casefold(NFKC(s)))``, as the Unicode Standard defines it (close to RFC 8265's
UsernameCaseMapped profile). So ``Straße`` = ``STRASSE``, ``ＭＡＲＩＡ`` = ``maria`` and
``Джон`` = ``джон``, while ``İstanbul`` and ``istanbul`` stay different (no Turkish tailoring).

No database folds text this way (SQLite folds ASCII only, PostgreSQL folds per locale and never
maps ``ß`` to ``ss``, MariaDB collations also fold accents), so the key is computed here, in
Python, and stored as a digest in :class:`authfold.accounts.models.CaselessKey`, whose index every lookup
uses. Everything that compares usernames or emails (backend, forms, serializers, audit,
migration, index) calls this module; if two places compare usernames, one of them is a bug.
"""

import hashlib
import unicodedata

import icu
from django.db import connections
from django.db.models import CharField, Value
from django.db.models.functions import Lower
from django.db.models.signals import post_migrate
from django.dispatch import receiver


def normalize_username(username):
    """The form a new or changed username is stored in: NFKC, as Django's own User does."""
    return unicodedata.normalize("NFKC", username)


def username_key(username):
    """The identifier caseless match key of a username: NFKC(casefold(NFKC(username)))."""
    return unicodedata.normalize("NFKC", normalize_username(username).casefold())


def same_username(first, second):
    """Whether two usernames name the same account."""
    return username_key(first) == username_key(second)


def email_key(email):
    """The caseless key of an email address, or ``None`` for a blank one (blanks never collide)."""
    email = (email or "").strip()
    if not email:
        return None
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())


def digest(key):
    """The fixed-width, ASCII form of a key that the database indexes (keys can be 18x longer)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def username_digest(username):
    """The indexed digest of a username's key."""
    return digest(username_key(username))


def email_digest(email):
    """The indexed digest of an email's key, or ``None`` for a blank email."""
    key = email_key(email)
    return None if key is None else digest(key)


# UTS #39's skeleton, from ICU (the reference implementation of UTS #39; its confusables data is
# the Unicode version of the ICU that PyICU links against: ICU 72.1, Unicode 15.0, on Debian 12).
# A frozen SpoofChecker and UnicodeSet are safe to share between threads.
_spoof_checker = icu.SpoofChecker()

# Two additions to the skeleton, each because the caseless key cannot carry what UTS #39 needs:
# the Cyrillic palochka's capital Ӏ has the prototype l, its small ӏ (which casefolding makes of
# both) has i (by way of ı, which is x-height); the key keeps only the small one, and drawn at
# ascender height like the capital it looks like l, so it maps to l.
_KEY_PROTOTYPES = str.maketrans({"\u04cf": "l"})
# And nonspacing diacritics are dropped after the skeleton's NFD: an accent or a dot over a
# letter is a mark a reader overlooks (maria + U+0301, and İ, whose casefold is i + U+0307), which
# UTS #39 leaves to the mixed-script and restriction-level checks. Only marks with Unicode's
# Diacritic property, and not viramas: the vowel signs of Indic scripts (Mn, not Diacritic) and
# a virama (which joins letters into a conjunct of another shape) keep names apart.
_diacritic_marks = icu.UnicodeSet("[[[:Mn:]&[:Diacritic:]]-[:ccc=Virama:]]")
_diacritic_marks.freeze()


def username_skeleton(username):
    """What a username looks like: UTS #39's skeleton of its caseless key, diacritics dropped.

    Two usernames with equal skeletons are look-alikes (``maria``, ``marıa``, ``mɑria``,
    ``MARİA``, ``maría``; ``paypal`` and Cyrillic ``раураӏ``), though different names.
    """
    key = username_key(username).translate(_KEY_PROTOTYPES)
    skeleton = _spoof_checker.getSkeleton(0, key)
    return "".join(char for char in skeleton if not _diacritic_marks.contains(char))


def skeleton_digest(username):
    """The indexed digest of a username's skeleton (:func:`username_skeleton`)."""
    return digest(username_skeleton(username))


def users_with_username(users, username):
    """The users in ``users`` (a queryset) whose username is the same as ``username``.

    One indexed lookup on the key table. Before our migrations have run (a rolling deploy),
    the key table does not exist yet: then the database's own caseless comparison
    (:func:`caseless_candidates`) narrows the candidates and this module's definition decides,
    which is slower and, on SQLite, blind to non-ASCII case.
    """
    if caseless_keys_ready(users.db):
        return users.filter(caseless_key__username_digest=username_digest(username))
    candidates = caseless_candidates(users, "username", normalize_username(username))
    matching = [
        pk for pk, name in candidates.values_list("pk", "username") if same_username(name, username)
    ]
    return users.filter(pk__in=matching)


def users_with_email(users, email):
    """The users in ``users`` whose email is the same as ``email`` (none for a blank email)."""
    key = email_key(email)
    if key is None:
        return users.none()
    if caseless_keys_ready(users.db):
        return users.filter(caseless_key__email_digest=digest(key))
    candidates = caseless_candidates(users, "email", email.strip())
    matching = [
        pk for pk, address in candidates.values_list("pk", "email") if email_key(address) == key
    ]
    return users.filter(pk__in=matching)


def caseless_candidates(users, field, value):
    """Before migrate: the rows whose ``field`` matches ``value`` in the database's own idea of case.

    Only a narrowing, never the decision: the callers keep the rows this module's definition
    accepts. MariaDB/MySQL's ``iexact`` is ``LIKE``, which a binary collation (the only one a
    legacy table with twins can have) makes case-sensitive; ``LOWER()`` still folds there.
    """
    if connections[users.db].vendor == "mysql":
        return users.alias(folded=Lower(field)).filter(
            folded=Lower(Value(value, output_field=CharField()))
        )
    return users.filter(**{f"{field}__iexact": value})


_ready_aliases = set()


def caseless_keys_ready(using):
    """Whether the key table exists on database ``using`` (remembered once it does)."""
    if using in _ready_aliases:
        return True
    from authfold.accounts.models import CaselessKey

    if CaselessKey._meta.db_table in connections[using].introspection.table_names():
        _ready_aliases.add(using)
        return True
    return False


_skeletons_ready_aliases = set()


def skeleton_digests_ready(using):
    """Whether the key table has its skeleton digest column on ``using`` (migration 0006): code
    deployed before that migration has run keeps writing keys, without skeletons."""
    if using in _skeletons_ready_aliases:
        return True
    if not caseless_keys_ready(using):
        return False
    from authfold.accounts.models import CaselessKey

    connection = connections[using]
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, CaselessKey._meta.db_table)
    if "skeleton_digest" in {column.name for column in columns}:
        _skeletons_ready_aliases.add(using)
        return True
    return False


def forget_caseless_keys_state():
    """Make :func:`caseless_keys_ready` look again, after migrating the accounts app backwards."""
    _ready_aliases.clear()
    _skeletons_ready_aliases.clear()


@receiver(post_migrate, dispatch_uid="authfold-forget-caseless-keys-state")
def forget_caseless_keys_state_after_migrate(**kwargs):
    """A ``migrate`` in this process (``migrate authfold zero`` in a host's test, say) may have
    dropped the key table: the next lookup looks again instead of querying a missing table."""
    forget_caseless_keys_state()
