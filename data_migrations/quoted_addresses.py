"""Stored addresses with a quoted local part, keyed again by the definition that unquotes the ones
that need no quotes (``"x"@example.net`` is ``x@example.net``, :func:`caseless.unquoted_email`).

Only addresses that start with a quote can have changed key, so only those are read (a handful in
any real table, found by one ``LIKE '"%'``). Each one's key row and email claim are written again:
where the plain spelling's account already holds the address, the quoted one is grandfathered
beside it (no claim, its digest kept), as migration 0007 grandfathered the addresses shared
before it, and ``conflict_audit`` lists the two as one shared address.
"""

from authfold.accounts.keys import EMAIL
from authfold.data_migrations.claims import claim_identifiers
from authfold.data_migrations.email_claims import claim_unheld_addresses
from authfold.data_migrations.keys import (
    BACKFILL_BATCH_SIZE,
    key_columns,
    model_key_fields,
    rewrite_keys,
)


def quoted_address_users(user_model, using):
    """The users whose stored address starts with a quote."""
    return user_model._base_manager.using(using).filter(email__startswith='"')


def rekey_quoted_addresses(user_model, key_model, claim_model, using):
    """Key each quoted address again (key row and claim); returns how many key rows changed."""
    users = quoted_address_users(user_model, using)
    keys = key_model._default_manager.using(using)
    columns = key_columns(key_model, using)
    rows = list(users.values_list("pk", "username", "email"))
    stored = dict(
        keys.filter(user_id__in=[pk for pk, _name, _email in rows]).values_list(
            "user_id", "email_digest"
        )
    )
    fresh = []
    for pk, username, email in rows:
        fields = model_key_fields(columns, username, email)
        if pk not in stored or stored[pk] == fields["email_digest"]:
            continue  # no row (the audit keys it from the user) or a key that stays
        # Claimed if no other account holds it; rewrite_keys grandfathers it otherwise.
        fields["email_claim"] = fields["email_digest"]
        fresh.append(key_model(user_id=pk, **fields))
    rewritten = rewrite_keys(keys, fresh, using, BACKFILL_BATCH_SIZE, columns)
    rekeyed = [key.user_id for key in fresh]
    claims = claim_model._default_manager.using(using)
    claims.filter(user_id__in=rekeyed, kind=EMAIL).delete()
    claim_identifiers(user_model, claim_model, using, users=users.filter(pk__in=rekeyed))
    claim_unheld_addresses(key_model, using)
    return rewritten
