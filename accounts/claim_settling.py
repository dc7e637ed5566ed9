"""Settling a claim in a writer's way: a process killed between a claim and its user's row leaves
a claim without a holder, which the next writer of that name links to the row that exists or,
when none does after :data:`CLAIM_GRACE`, frees; ``conflict_audit --fix`` settles the rest."""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from authfold.accounts.key_rows import claim_model, write_key_row_from_user
from authfold.accounts.user_model import keyed_user_model

# Longer than any write holds a claim without its row (pre_save to post_save, milliseconds), so a
# younger holderless claim is a write in progress; short, so a name whose sign-up died is free soon.
CLAIM_GRACE = timedelta(seconds=30)


def settle_claims(digests, writer_pk, using):
    """Settle the claims holding ``digests``; returns the digests still taken by another account
    or a live write, and those the writer itself holds already.

    - a holder that exists: taken, unless it is the writer;
    - a holder deleted around Django (raw SQL, a flush): the claim is dropped;
    - no holder, and a user row has the claim's username: a write that did not finish (or is
      finishing now); the claim is linked to that user;
    - no holder and no such row: dropped once older than :data:`CLAIM_GRACE`, else taken.
    """
    claims = claim_model()._default_manager.using(using)
    users = keyed_user_model()._base_manager.using(using)
    holders = claims.filter(digest__in=digests).annotate(
        live=Exists(users.filter(pk=OuterRef("user_id")))
    )
    taken, own = [], set()
    for claim in holders:
        holder = claim.user_id
        if holder is not None and not claim.live:
            claims.filter(pk=claim.pk, user=holder).delete()
            continue
        if holder is None:
            holder = user_of_unfinished_claim(claims, users, claim)
            unfinished = unfinished_write(claims, claim)
            if holder is None and claim.created_at < timezone.now() - CLAIM_GRACE:
                unfinished.delete()
                continue
            if holder is not None and unfinished.update(user=holder):
                write_key_row_from_user(holder, using)
        elif holder != writer_pk:
            # A write of the holder's that reached its row and died before its key row (or a
            # write around save()): a refusal is the moment to put its key in step.
            write_key_row_from_user(holder, using)
        if holder is not None and holder == writer_pk:
            own.add(claim.digest)
        else:
            taken.append(claim.digest)
    return taken, own


def unfinished_write(claims, claim):
    """The holderless claims one write inserted with ``claim`` (one statement: one timestamp).

    Selected by digest, as the write itself links them: a write finishing now and a writer
    settling its claims then lock the same rows in the same order, and cannot deadlock."""
    digests = claims.filter(user=None, created_at=claim.created_at).values_list("digest", flat=True)
    return claims.filter(digest__in=sorted(digests), user=None)


def user_of_unfinished_claim(claims, users, claim):
    """The user whose write left this holderless claim, found through the username it wrote (the
    user table's own unique index); an email's claim is found by the username claimed with it."""
    username = claim.source
    if claim.kind == claims.model.EMAIL:
        username = (
            claims.filter(user=None, kind=claims.model.USERNAME, created_at=claim.created_at)
            .values_list("source", flat=True)
            .first()
        )
    if username is None:
        return None
    return (
        users.filter(**{users.model.USERNAME_FIELD: username}).values_list("pk", flat=True).first()
    )


def orphan_claims(using):
    """The holderless claims older than :data:`CLAIM_GRACE`: left by writes that did not finish."""
    claims = claim_model()._default_manager.using(using)
    return claims.filter(user=None, created_at__lt=timezone.now() - CLAIM_GRACE).order_by("pk")


def clear_orphan_claims(using):
    """Settle every orphan claim: linked to the user its write left (that write reached its row),
    else dropped; returns how many were settled."""
    claims = claim_model()._default_manager.using(using)
    users = keyed_user_model()._base_manager.using(using)
    settled = 0
    for claim in list(orphan_claims(using)):
        holder = user_of_unfinished_claim(claims, users, claim)
        unfinished = unfinished_write(claims, claim)
        if holder is None:
            settled += unfinished.delete()[0]
            continue
        linked = unfinished.update(user=holder)
        if linked:
            write_key_row_from_user(holder, using)
        settled += linked
    return settled
