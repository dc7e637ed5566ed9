"""The key row (:class:`~authfold.accounts.models.CaselessKey`) that follows a user's claims: the
digests the audit, the engine and the look-alike check read and join, and the texts they were
computed from."""

from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q

from authfold.accounts.caseless import (
    email_digest,
    key_sources_ready,
    skeleton_digest,
    username_digest,
)
from authfold.accounts.user_model import keyed_user_model
from authfold.accounts.writes import guarded, insert_rows


def claim_model():
    """The claims' model, imported when first used, as the receivers' modules load with the app."""
    from authfold.accounts.models import IdentifierClaim

    return IdentifierClaim


def key_fields(username, email):
    """The column values of a user's key row: the digests, and the texts they were computed from."""
    return {
        "username_digest": username_digest(username),
        "email_digest": email_digest(email),
        "skeleton_digest": skeleton_digest(username),
        "username_source": username,
        "email_source": email,
    }


def orphan_keys(key_model, using):
    """The key rows whose user is gone.

    The foreign key's ``CASCADE`` is Django's, run by ``Model.delete()``; a user deleted any other
    way leaves its key behind: MariaDB/MySQL's ``flush`` (``TransactionTestCase`` with
    ``available_apps``) truncates ``auth_user`` with foreign key checks off, raw SQL, a cascade
    in the database that skipped Django's.
    """
    user_model = key_model._meta.get_field("user").related_model
    users = user_model._base_manager.using(using)
    return key_model._default_manager.using(using).filter(
        ~Exists(users.filter(pk=OuterRef("user_id")))
    )


def write_key_row(user_pk, username, email, using, new_user=False, claimed=()):
    """Write the user's key row as its claims now stand (``claimed``: the digests this write
    claimed; a new user claimed all of its own). A row the key table refuses (a dead user's key
    in the way is removed first; a twin written around ``save()``) is left to
    ``conflict_audit``: the claims already hold the rule."""
    from authfold.accounts.models import CaselessKey

    fields = key_fields(username, email)
    if not key_sources_ready(using):
        del fields["username_source"], fields["email_source"]
    if new_user or fields["email_digest"] in claimed:
        fields["email_claim"] = fields["email_digest"]
    elif fields["email_digest"] is None:
        fields["email_claim"] = None
    keys = CaselessKey._default_manager.using(using)
    for _attempt in range(2):
        try:
            with guarded(using):
                if new_user or not keys.filter(user=user_pk).update(**fields):
                    insert_rows(
                        CaselessKey, using, ("user", *fields), [(user_pk, *fields.values())]
                    )
            return
        except IntegrityError:
            dead = orphan_keys(CaselessKey, using).filter(
                Q(username_digest=fields["username_digest"])
                | Q(email_claim__isnull=False, email_claim=fields.get("email_claim"))
            )
            if not dead.delete()[0]:
                return


def write_key_row_from_user(user_pk, using):
    """Write a user's key row as its row in the user table says (the claims it holds decide
    whether it holds its address)."""
    user_model = keyed_user_model()
    identity = (
        user_model._base_manager.using(using)
        .filter(pk=user_pk)
        .values_list(user_model.USERNAME_FIELD, user_model.get_email_field_name())
        .first()
    )
    if identity is None:
        return
    held = claim_model()._default_manager.using(using).filter(user=user_pk)
    write_key_row(user_pk, *identity, using, claimed=set(held.values_list("digest", flat=True)))
