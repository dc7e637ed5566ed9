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

An email's key folds its local part the same way and keys a non-ASCII domain by its IDNA 2008
A-label (UTS #46, non-transitional, see :func:`ascii_domain`), computed from the domain as
written: ``example.com`` written with a soft hyphen (U+00AD) or a zero-width space in it is
``example.com``, ``mail`` U+3002 ``example.com`` (ideographic full stop) is ``mail.example.com``,
``bücher.de`` is ``xn--bcher-kva.de``, and ``faß.de`` is ``xn--fa-hia.de``, never ``fass.de``
(another domain, whose mailbox case folding would have given it): one mailbox, one key. A quoted
local part that needs no quotes is keyed without them (``"x"@example.net`` is ``x@example.net``,
as RFC 5321 reads it). An address whose domain is ASCII and local part unquoted keeps the key it
always had.
"""

import hashlib
import re
import unicodedata
from bisect import bisect_right

import idna
from django.db import connections
from django.db.models import CharField, Value
from django.db.models.functions import Lower
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from authfold.accounts import unicode_pinned
from authfold.accounts.postgres_index import (
    forget_username_index_state,
    username_index_ready,
    users_with_username_digest,
)
from authfold.accounts.postgres_login import forget_login_function_state
from authfold.accounts.skeleton import key_skeleton


def normalize_username(username):
    """The form a new or changed username is stored in: NFKC, as Django's own User does (in the
    pinned Unicode version, see :func:`in_pinned_unicode`)."""
    return in_pinned_unicode(nfkc, username)


def username_key(username):
    """The identifier caseless match key of a username: NFKC(casefold(NFKC(username)))."""
    if username.isascii():
        return ascii_key(username)
    return fold(username)


def ascii_key(text):
    """The key of an ASCII-only text, the same as the full definition's but without its two
    normalisations: NFKC leaves ASCII as it is and case folding ASCII is lowering it. (The audit
    computes a key for every user; most names are ASCII.)"""
    return text.lower()


def same_username(first, second):
    """Whether two usernames name the same account."""
    return username_key(first) == username_key(second)


# RFC 1035's limit on a domain name in text form (253 characters, the final dot left out).
MAX_DOMAIN_LENGTH = 253


def email_key(email):
    """The caseless key of an email address, or ``None`` for a blank one (blanks never collide):
    the local part unquoted where it needs no quotes (:func:`unquoted_email`) and folded as a
    username is, a non-ASCII domain as its IDNA 2008 A-label."""
    email = unquoted_email((email or "").strip())
    if not email:
        return None
    if email.isascii():
        return ascii_key(email)
    local, at, domain = email.rpartition("@")
    # A domain longer than DNS allows names no mailbox; IDNA's cost grows with the length.
    if not at or domain.isascii() or len(domain) > MAX_DOMAIN_LENGTH:
        return fold(email)
    folded_domain = fold(domain)
    # UTS #46 maps case itself, and keeps ß and ς, which case folding would turn into another
    # domain's letters (faß.de is not fass.de). What IDNA 2008 refuses is keyed where Django's
    # mailer sends it.
    encoded = ascii_domain(domain) or idna_2003_domain(folded_domain) or folded_domain
    return f"{fold(local)}@{encoded}"


# An atom of a dot-atom: RFC 5322's atext, and RFC 6531's characters outside ASCII.
ATOM = re.compile(r"(?:[^\x00-\x7f]|[\w!#$%&'*+/=?^`{|}~-])+", re.ASCII)
QUOTED_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def needs_no_quotes(local_part):
    """Whether a local part can be written without quotes: a dot-atom (``x``, ``x.y``), its
    atoms ASCII ``atext`` or characters outside ASCII (RFC 6531)."""
    return all(ATOM.fullmatch(atom) for atom in local_part.split("."))


def unquoted_email(email):
    """The address with a quoted local part in its one canonical form (RFC 5321, 4.1.2: a quoted
    string and its unquoted form name one mailbox): ``"x"@example.net`` and ``"\\x"@example.net``
    are ``x@example.net``; one that needs its quotes keeps them, with only ``"`` and ``\\``
    escaped (``"a\\ b"@x.net`` is ``"a b"@x.net``). Any other address is returned as it is."""
    if not email.startswith('"'):
        return email
    local, at, domain = email.rpartition("@")
    quoted = QUOTED_STRING.fullmatch(local)
    if not at or quoted is None:
        return email
    content = QUOTED_PAIR.sub(r"\1", quoted[1])
    if needs_no_quotes(content):
        return f"{content}@{domain}"
    escaped = content.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{domain}'


def fold(text):
    """The caseless form of any text, as :func:`username_key` defines it."""
    return in_pinned_unicode(unpinned_fold, text)


def nfkc(text):
    return unicodedata.normalize("NFKC", text)


def unpinned_fold(text):
    """:func:`fold` by this Python's own Unicode tables."""
    return nfkc(nfkc(text).casefold())


# The definition is pinned to one Unicode version (accounts/unicode_pinned.py, generated with
# PostgreSQL's copy of the key): a newer Python's tables also know the characters later versions
# added, and would fold a name holding one differently from the database's index.
PYTHON_IS_PINNED = unicodedata.unidata_version == unicode_pinned.UNICODE_VERSION
_ASSIGNED_FIRSTS = [first for first, _last in unicode_pinned.ASSIGNED]


def assigned_in_pinned_unicode(character):
    """Whether the pinned Unicode version had assigned this character."""
    number = ord(character)
    at = bisect_right(_ASSIGNED_FIRSTS, number) - 1
    return at >= 0 and number <= unicode_pinned.ASSIGNED[at][1]


def in_pinned_unicode(transform, text):
    """``transform(text)`` (a normalisation, a case folding) as the pinned Unicode version gives
    it, on any Python: each run of characters that version had assigned is transformed, and each
    character it had not is kept. In that version such a character has no decomposition, no case
    and combining class 0, so it is left as it is and no composition reaches across it; the
    characters it had assigned fold alike in every later version (Unicode's stability
    policies). ``tests/test_caseless.py`` checks the key of every code point against the
    pinned version's fingerprint (``data_migrations.postgres_keys.key_fingerprint``)."""
    if PYTHON_IS_PINNED or text.isascii():
        return transform(text)
    parts, run = [], []
    for character in text:
        if character < "\x80" or assigned_in_pinned_unicode(character):
            run.append(character)
            continue
        if run:
            parts.append(transform("".join(run)))
            run = []
        parts.append(character)
    if run:
        parts.append(transform("".join(run)))
    return "".join(parts)


# IDNA 2008's deviation characters: IDNA 2003 (Django's mailer) maps them away, IDNA 2008 keeps
# them, so one written domain names two domains, and mail goes to the other one.
DEVIATION_CHARACTERS = frozenset("\u00df\u03c2\u200c\u200d")


def has_deviation_character(domain):
    """Whether a domain holds ß, ς, ZWNJ or ZWJ, which mail systems deliver to different domains."""
    return not DEVIATION_CHARACTERS.isdisjoint(unicodedata.normalize("NFKC", domain))


def ascii_domain(domain):
    """The ASCII (A-label) form of a domain under IDNA 2008 with UTS #46 mapping (the ``idna``
    library, as ``email-validator`` uses it), or ``None`` when IDNA 2008 refuses the domain.

    UTS #46 drops soft hyphens and zero-width spaces, reads U+3002 as a dot and folds fullwidth
    letters: what looks like one domain gets one form.
    """
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None


def idna_2008_address(email):
    """The address to hand to a mailer: as stored, except that a domain with a deviation
    character is written as its IDNA 2008 A-label, the mailbox the key names (Django's mailer
    would encode it with IDNA 2003: ``faß.de`` to ``fass.de``, another domain)."""
    local, at, domain = (email or "").rpartition("@")
    if not at or domain.isascii() or not has_deviation_character(domain):
        return email
    encoded = ascii_domain(domain)
    return email if encoded is None else f"{local}@{encoded}"


def unicode_domain(domain):
    """The Unicode (U-label) form of a domain under IDNA 2008 and UTS #46, or ``None`` if refused."""
    encoded = ascii_domain(domain)
    return None if encoded is None else idna.decode(encoded)


def idna_2003_domain(domain):
    """Where Django's mailer sends a domain IDNA 2008 refuses: its IDNA 2003 form (Python's
    ``idna`` codec, which ``django.core.mail`` uses), or ``None`` if that refuses it too."""
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def email_spellings(email):
    """The ways one address can be written that reach its mailbox: as given, with a non-ASCII
    domain in its ASCII form, and with an ASCII (``xn--``) domain in its Unicode form."""
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or len(domain) > MAX_DOMAIN_LENGTH:
        return {email}
    other_forms = {ascii_domain(domain), unicode_domain(domain)} - {None}
    return {email} | {f"{local}@{form}" for form in other_forms}


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


def username_skeleton(username):
    """What a username looks like: UTS #39's skeleton of its caseless key, diacritics dropped.

    Two usernames with equal skeletons are look-alikes (``maria``, ``marıa``, ``mɑria``,
    ``MARİA``, ``maría``; ``paypal`` and Cyrillic ``раураӏ``), though different names.
    """
    return key_skeleton(username_key(username))


def skeleton_digest(username):
    """The indexed digest of a username's skeleton (:func:`username_skeleton`)."""
    return digest(username_skeleton(username))


def lookalike_claim_digest(username):
    """The digest a username's look-alike claim holds: its skeleton, in a domain of its own (no
    username or email key contains a NUL), so a skeleton never collides with a name's key."""
    return digest("\x00skeleton\x00" + username_skeleton(username))


def users_with_username(users, username):
    """The users in ``users`` (a queryset) whose username is the same as ``username``.

    On PostgreSQL once migration 0008 has run, one scan of the user table's expression index;
    elsewhere, one indexed lookup on the key table. Before our migrations have run (a rolling deploy),
    the key table does not exist yet: then the database's own caseless comparison
    (:func:`caseless_candidates`) narrows the candidates and this module's definition decides,
    which is slower and, on SQLite, blind to non-ASCII case.
    """
    if username_index_ready(users.db, users.model):
        return users_with_username_digest(users, username_digest(username))
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


def users_with_username_spelling_email(users, email):
    """The users whose username is, in any case, a way to write ``email`` (see
    :func:`email_spellings`): with login by email on, such a username would take that address's
    login. Each spelling is keyed as a username, so like is compared with like; one indexed lookup.
    """
    spellings = email_spellings(email) - {""}
    if caseless_keys_ready(users.db):
        digests = {username_digest(spelling) for spelling in spellings}
        return users.filter(caseless_key__username_digest__in=digests)
    matching = set()
    for spelling in spellings:
        matching.update(users_with_username(users, spelling).values_list("pk", flat=True))
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


_ready_tables = set()


def caseless_keys_ready(using):
    """Whether the key table exists on database ``using`` (remembered once it does)."""
    from authfold.accounts.models import CaselessKey

    if table_ready(CaselessKey, using):
        # And PostgreSQL's expression index, in the same first look, not in a login's.
        username_index_ready(using, CaselessKey._meta.get_field("user").related_model)
        return True
    return False


def table_ready(model, using):
    """Whether ``model``'s table exists on database ``using`` (remembered once it does)."""
    table = model._meta.db_table
    if (using, table) not in _ready_tables:
        # Every table there now is remembered from this one look, not in a later login's.
        _ready_tables.update(
            (using, name) for name in connections[using].introspection.table_names()
        )
    return (using, table) in _ready_tables


_key_table_columns = {}


def key_column_ready(using, column):
    """Whether the key table has ``column`` on ``using``. Its columns are read in one first look
    and remembered (until a ``migrate`` in this process): code deployed before the migration that
    adds a column writes key rows without it until it restarts."""
    if using not in _key_table_columns:
        if not caseless_keys_ready(using):
            return False
        from authfold.accounts.models import CaselessKey

        connection = connections[using]
        with connection.cursor() as cursor:
            table = connection.introspection.get_table_description(
                cursor, CaselessKey._meta.db_table
            )
        _key_table_columns[using] = frozenset(present.name for present in table)
    return column in _key_table_columns[using]


def skeleton_digests_ready(using):
    """Whether the key table has its skeleton digest column on ``using`` (migration 0006)."""
    return key_column_ready(using, "skeleton_digest")


def key_sources_ready(using):
    """Whether the key table keeps the texts its digests were computed from (migration 0014)."""
    return key_column_ready(using, "username_source")


def forget_caseless_keys_state():
    """Make :func:`caseless_keys_ready`, :func:`key_column_ready`, ``username_index_ready`` and
    ``login_function_ready`` look again, after migrating the accounts app backwards."""
    _ready_tables.clear()
    _key_table_columns.clear()
    forget_username_index_state()
    forget_login_function_state()


@receiver(post_migrate, dispatch_uid="authfold-forget-caseless-keys-state")
def forget_caseless_keys_state_after_migrate(**kwargs):
    """A ``migrate`` in this process (``migrate authfold zero`` in a host's test, say) may have
    dropped the key table: the next lookup looks again instead of querying a missing table."""
    forget_caseless_keys_state()
