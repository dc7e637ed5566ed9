"""Claiming every user's login identifiers (:class:`~authfold.accounts.models.IdentifierClaim`).

Used by migration 0011 (every user) and ``conflict_audit --fix`` (the users written around
``save()``). Idempotent and safe beside live writes: each batch is one ``INSERT`` that skips a
digest already claimed, so whoever claimed first keeps it. Usernames are claimed for every user
before any email, so a legacy account whose address is another account's username is the one
left without that claim (the username is the login the backend finds first); of legacy accounts
sharing an address, the lowest id holds it and the others are grandfathered. With
``AUTHFOLD_REFUSE_LOOKALIKES``, look-alike claims come last, and likewise the lowest id of a
legacy look-alike group holds its skeleton.
"""

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from authfold.accounts.keys import EMAIL, LOOKALIKE, USERNAME, wanted_claims
from authfold.data_migrations.detection import ExactText, pages

CLAIM_BATCH_SIZE = 5000


def claim_identifiers(user_model, claim_model, using, users=None, batch_size=CLAIM_BATCH_SIZE):
    """Claim the usernames, then the emails, of ``users`` (every user by default) that are not
    claimed yet; returns how many claims it wrote."""
    if users is None:
        users = user_model._base_manager.using(using)
    claims = claim_model._default_manager.using(using)
    before = claims.count()
    for kinds in ((USERNAME,), (EMAIL,), (LOOKALIKE,)):
        for rows in pages(users, ("pk", "username", "email"), batch_size):
            now = timezone.now()
            batch = [
                claim_model(digest=digest, kind=kind, source=source, user_id=pk, created_at=now)
                for pk, username, email in rows
                for digest, (kind, source) in wanted_claims(username, email).items()
                if kind in kinds
            ]
            claims.bulk_create(batch, ignore_conflicts=True)
    return claims.count() - before


def unclaimed_users(user_model, claim_model, using):
    """The users that hold no claim on their username: written around ``save()`` (or twins of a
    legacy account that holds it)."""
    claims = claim_model._default_manager.using(using)
    return user_model._base_manager.using(using).filter(
        ~Exists(claims.filter(user=OuterRef("pk"), kind=USERNAME))
    )


def stale_claims(claim_model, using):
    """The claims whose key is no longer their user's: a write around ``save()`` changed the name
    or address. Only the claims whose source text differs from the user's, byte for byte, are
    keyed again (a change of case through ``save()`` leaves the earlier spelling there, with the
    same key)."""
    claims = (
        claim_model._default_manager.using(using)
        .filter(user__isnull=False)
        .alias(
            source_bytes=ExactText("source"),
            username_bytes=ExactText("user__username"),
            email_bytes=ExactText("user__email"),
        )
    )
    named = claims.filter(kind__in=[USERNAME, LOOKALIKE]).exclude(source_bytes=F("username_bytes"))
    changed = named | claims.filter(kind=EMAIL).exclude(source_bytes=F("email_bytes"))
    rows = changed.values_list("pk", "digest", "user__username", "user__email")
    return [
        pk for pk, digest, username, email in rows if digest not in wanted_claims(username, email)
    ]


def repair_claims(user_model, claim_model, using):
    """Drop the stale claims, then claim again for their users and for every user holding no
    claim on its username; returns how many claims it wrote."""
    claims = claim_model._default_manager.using(using)
    stale = claims.filter(pk__in=stale_claims(claim_model, using))
    affected = set(stale.values_list("user_id", flat=True))
    stale.delete()
    users = user_model._base_manager.using(using).filter(
        Q(pk__in=affected) | ~Exists(claims.filter(user=OuterRef("pk"), kind=USERNAME))
    )
    return claim_identifiers(user_model, claim_model, using, users=users)
