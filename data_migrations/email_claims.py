"""Emails unique at the database, without stopping on the addresses legacy accounts already share.

Every key row *claims* its email digest in ``email_claim``, a unique column, so a second account
with the same address in any case is refused by the database. Accounts that shared an address
before migration 0007 keep it: one of each such group (the lowest id) holds the claim, the others
hold ``NULL`` there and are *grandfathered* (``email_digest`` set, ``email_claim`` NULL). A
newcomer with that address collides with the holder's claim; a grandfathered account that changes
its address claims the new one like anybody else. Used by migration 0007 and ``conflict_audit``.
"""

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min

from authfold.data_migrations.detection import pages
from authfold.data_migrations.enforcement import ensure_unique_index

CLAIM_BATCH_SIZE = 5000

CLAIM_INDEX_NAME = "authfold_caselesskey_email_claim_unique"


def fill_email_claims(key_model, using, batch_size=CLAIM_BATCH_SIZE):
    """Give every key row with an email its claim, except the grandfathered extras of a shared
    address; returns how many rows became grandfathered.

    Idempotent and safe beside live writes (before the unique index exists): rows are claimed in
    primary-key batches, then every digest claimed more than once keeps one claim, the lowest id's.
    """
    keys = key_model._default_manager.using(using)
    for rows in pages(keys.filter(email_claim__isnull=True), ("pk",), batch_size):
        with transaction.atomic(using=using):
            keys.filter(
                pk__gte=rows[0][0],
                pk__lte=rows[-1][0],
                email_claim__isnull=True,
                email_digest__isnull=False,
            ).update(email_claim=F("email_digest"))
    return release_duplicate_claims(keys, using)


def release_duplicate_claims(keys, using):
    """Leave one claim per digest (the lowest id's); the other rows become grandfathered."""
    released = 0
    shared = (
        keys.filter(email_claim__isnull=False)
        .values("email_claim")
        .annotate(rows=Count("pk"), holder=Min("pk"))
        .filter(rows__gt=1)
        .values_list("email_claim", "holder")
    )
    for claim, holder in list(shared):
        with transaction.atomic(using=using):
            released += keys.filter(email_claim=claim).exclude(pk=holder).update(email_claim=None)
    return released


def claim_unheld_addresses(key_model, using):
    """Give a claim back to grandfathered addresses that no account holds any more (its group was
    split by a new key, ``faß.de`` apart from ``fass.de``): the lowest id of each claims it.
    Returns how many it claimed; one that a sign-up claimed meanwhile is left grandfathered."""
    keys = key_model._default_manager.using(using)
    held = keys.filter(email_claim__isnull=False).values("email_claim")
    unheld = (
        grandfathered(keys)
        .exclude(email_digest__in=held)
        .values("email_digest")
        .annotate(holder=Min("pk"))
        .values_list("email_digest", "holder")
    )
    claimed = 0
    for claim, holder in list(unheld):
        try:
            with transaction.atomic(using=using):
                claimed += keys.filter(pk=holder).update(email_claim=claim)
        except IntegrityError:
            continue
    return claimed


def grandfathered(keys):
    """The key rows of grandfathered accounts: an address, but no claim on it."""
    return keys.filter(email_digest__isnull=False, email_claim__isnull=True)


def grandfathered_email_groups(user_model, key_model, using):
    """The groups of accounts that share an address because they did before migration 0007:
    each a list of ``(id, username, email, grandfathered)`` tuples in id order, the holder of the
    claim among them (``grandfathered`` False), in digest order."""
    keys = key_model._default_manager.using(using)
    digests = sorted(set(grandfathered(keys).values_list("email_digest", flat=True)))
    users = user_model._default_manager.using(using)
    groups = []
    for digest in digests:
        rows = (
            users.filter(caseless_key__email_digest=digest)
            .order_by("pk")
            .values_list("pk", "username", "email", "caseless_key__email_claim")
        )
        groups.append([(pk, name, email, claim is None) for pk, name, email, claim in rows])
    return groups


def build_claim_index(schema_editor, key_model):
    """Make ``email_claim`` unique without blocking writes on PostgreSQL; a claim written twice
    meanwhile (a sign-up racing the fill) is released as grandfathered and the build retried."""
    using = schema_editor.connection.alias
    table = key_model._meta.db_table
    for attempt in range(3):
        try:
            ensure_unique_index(schema_editor, table, "email_claim", CLAIM_INDEX_NAME)
            return
        except IntegrityError:
            if attempt == 2:
                raise
            release_duplicate_claims(key_model._default_manager.using(using), using)
