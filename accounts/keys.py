"""The save protocol: every username and email a user logs in with is claimed before its row is written.

A claim (:class:`~authfold.accounts.models.IdentifierClaim`) is the digest of an identifier's
caseless key in one unique column that usernames and emails share, so the database refuses a
twin, a shared email, and a username that is another account's email (or the reverse) alike, on
every database and whatever the timing. Each save that goes through ``Model.save()``:

- a new user: its claims in one ``INSERT`` (no holder yet), its row, then one ``UPDATE`` naming
  it their holder, then its key row;
- an existing user: only the identifiers whose key changes are claimed (held by it) before its
  row, the ones it gave up are dropped after; a change of case claims nothing (the claim's
  ``source`` keeps the earlier spelling: the same key);
- a save that changes neither the username nor the email: nothing at all.

A refused claim means nothing was written: :class:`CaselessConflict` names the field. A claim in
the way is first settled from its row (:mod:`authfold.accounts.claim_settling`: a process killed
between a claim and its row leaves a claim without a holder).

The key row (:mod:`authfold.accounts.key_rows`: the digests the audit, the engine and the
look-alike check read) follows the claims. Writes around ``save()`` (``bulk_create``,
``update()``, raw SQL) leave a user unclaimed or with a stale claim; ``conflict_audit`` lists and
repairs them. Until migration 0011 has created the claims table, saves write nothing here: the
validators' caseless comparison keeps the rule and the migration claims every user.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils import timezone

from authfold.accounts.caseless import (
    caseless_keys_ready,
    email_digest,
    key_sources_ready,
    lookalike_claim_digest,
    table_ready,
    username_digest,
    username_key,
)
from authfold.accounts.claim_settling import settle_claims
from authfold.accounts.conf import authfold_setting
from authfold.accounts.key_rows import claim_model, write_key_row
from authfold.accounts.postgres_index import (
    refused_by_username_index,
    username_index_ready,
    users_with_username_digest,
)
from authfold.accounts.postgres_login import login_function_ready
from authfold.accounts.user_model import (
    connect_to_user_models,
    keyed_user_model,
    logs_in_by_username,
    user_row_id,
)
from authfold.accounts.writes import guarded, insert_rows, is_deadlock

USERNAME = "username"
EMAIL = "email"
LOOKALIKE = "lookalike"


class CaselessConflict(IntegrityError):
    """The database refused a user whose username (or email) is caselessly taken.

    An ``IntegrityError``, so code that already handles those keeps working; ``field`` names the
    field to report the error on.
    """

    def __init__(self, field, value=None, lookalike=False):
        self.field = field
        self.value = value
        self.lookalike = lookalike
        named = f"the {field} {value!r}" if value is not None else f"this {field}"
        if lookalike:
            super().__init__(f"another account's username looks like {named}")
        else:
            super().__init__(f"another account already has {named} (in some case)")


def claims_ready(using):
    """Whether the claims table exists on ``using`` (migration 0011; remembered once it does).
    The key rows the saves then write are read by the lookups: their state, the key table's
    columns and PostgreSQL's login function are taken in the same first look, not in a login's
    or a sign-up's."""
    if not (table_ready(claim_model(), using) and caseless_keys_ready(using)):
        return False
    key_sources_ready(using)
    login_function_ready(using, keyed_user_model())
    return True


def wanted_claims(username, email):
    """The claims an account with this username and email holds: ``{digest: (kind, source)}``.

    A username shaped like an address also claims that address, keyed as an email: with login by
    email it would log in as that address. One digest is one claim, the username's first. With
    ``AUTHFOLD_REFUSE_LOOKALIKES``, the username's skeleton is claimed too, so two look-alike
    names sent together leave one.
    """
    claims = {}
    if username:
        claims[username_digest(username)] = (USERNAME, username)
        if "@" in username_key(username):
            claims.setdefault(email_digest(username), (USERNAME, username))
    address = email_digest(email)
    if address is not None:
        claims.setdefault(address, (EMAIL, email))
    if username and authfold_setting("AUTHFOLD_REFUSE_LOOKALIKES"):
        claims[lookalike_claim_digest(username)] = (LOOKALIKE, username)
    return claims


def touches_identity(sender, raw, update_fields):
    """Whether this save can change the username or the email: it writes the user table (a raw
    save of a multi-table subclass, as ``loaddata`` makes, writes only the subclass's own table)
    and its ``update_fields``, if any, name one of them."""
    if raw and sender._meta.concrete_model is not keyed_user_model()._meta.concrete_model:
        return False
    return update_fields is None or bool({"username", "email"} & set(update_fields))


# Where a user instance keeps the username and email it was loaded with (so a save can tell what
# changes without reading the row again), and what a save claimed until its row is written.
LOADED_ATTRIBUTE = "_authfold_loaded_identity"
PENDING_ATTRIBUTE = "_authfold_pending_claims"


@dataclass
class PendingClaims:
    """A save between its two receivers: what it claimed, and what to tidy after the row."""

    identity: tuple
    new_user: bool
    claimed: list = field(default_factory=list)
    given_up: list = field(default_factory=list)


def identity_of(sender, instance):
    """The ``(username, email)`` the instance has now."""
    return instance.username, getattr(instance, sender.get_email_field_name(), "")


def remember_loaded_identity(sender, instance, **kwargs):
    """At ``__init__``: note the username and email a row was loaded with (no query)."""
    values = instance.__dict__
    email_field = sender.get_email_field_name()
    if sender.USERNAME_FIELD in values and email_field in values:
        values[LOADED_ATTRIBUTE] = (values[sender.USERNAME_FIELD], values[email_field])


def stored_identity(sender, instance, using):
    """The ``(username, email)`` the database holds for the user, or ``None`` for a new one.

    What the instance was loaded with from this database when it can be trusted; otherwise
    (``User(pk=7, ...)``, deferred fields, another database) the row is read, from the user table
    (a multi-table subclass's primary key is its user's: a user being promoted to the subclass
    has its user row and no subclass row yet).
    """
    pk = user_row_id(instance)
    if pk is None:
        return None
    loaded = instance.__dict__.get(LOADED_ATTRIBUTE)
    if loaded is not None and not instance._state.adding and instance._state.db == using:
        return loaded
    return (
        keyed_user_model()
        ._base_manager.using(using)
        .filter(pk=pk)
        .values_list(sender.USERNAME_FIELD, sender.get_email_field_name())
        .first()
    )


def claim_before_save(sender, instance, raw, using, update_fields, **kwargs):
    """Before the row is written: claim what the save changes; a refusal writes nothing.

    ``loaddata`` (``raw``) too: a claim needs no user row, so fixtures may come in any order; it
    runs in one transaction, which a refusal rolls back whole."""
    if not touches_identity(sender, raw, update_fields):
        return
    if not claims_ready(using):
        refuse_indexed_twin_inside_transaction(sender, instance, using)
        return
    identity = identity_of(sender, instance)
    stored = stored_identity(sender, instance, using)
    wanted = wanted_claims(*identity)
    pending = PendingClaims(identity, new_user=stored is None)
    if stored is None:
        new = wanted
    else:
        held = wanted_claims(*stored)
        new = {digest: claim for digest, claim in wanted.items() if digest not in held}
        pending.given_up = [digest for digest in held if digest not in wanted]
    if any(kind == USERNAME for kind, _source in new.values()):
        refuse_indexed_twin_inside_transaction(sender, instance, using)
    take_claims(new, None if stored is None else user_row_id(instance), identity, using)
    pending.claimed = list(new)
    instance.__dict__[PENDING_ATTRIBUTE] = pending


def finish_claims_after_save(sender, instance, created, raw, using, **kwargs):
    """After the row: name the new user the holder of its claims, drop the claims a change gave
    up, then write its key row."""
    pending = instance.__dict__.pop(PENDING_ATTRIBUTE, None)
    if pending is None:
        return
    claims = claim_model()._default_manager.using(using)
    if pending.new_user and pending.claimed:
        claims.filter(digest__in=sorted(pending.claimed), user=None).update(user=instance.pk)
    if pending.given_up:
        claims.filter(user=instance.pk, digest__in=pending.given_up).delete()
    if pending.new_user or pending.claimed or pending.given_up or raw:
        write_key_row(instance.pk, *pending.identity, using, pending.new_user, pending.claimed)
    instance.__dict__[LOADED_ATTRIBUTE] = pending.identity


def take_claims(claims, user_pk, identity, using):
    """Insert ``claims`` (``{digest: (kind, source)}``) held by ``user_pk`` (``None``: a user
    not yet written), in one statement. A claim in the way is settled and the rest tried again;
    one another account (or a live write) holds raises :class:`CaselessConflict`.

    A deadlock between two writers of one identifier (InnoDB's next-key locks) is a race lost:
    in autocommit only the statement was undone, so it is tried again; inside a transaction
    (which InnoDB undoes whole) the save is refused like any lost race."""
    remaining = dict(claims)
    for _attempt in range(4):
        if not remaining:
            return
        try:
            taken, own = insert_or_settle(remaining, user_pk, using)
        except OperationalError as error:
            if not is_deadlock(error):
                raise
            if transaction.get_connection(using).in_atomic_block:
                raise conflict(claims, list(claims), identity) from error
            continue
        if taken:
            raise conflict(claims, taken, identity)
        remaining = {digest: claim for digest, claim in remaining.items() if digest not in own}
    raise conflict(claims, list(claims), identity)


def insert_or_settle(claims, user_pk, using):
    """Insert the claims; if one is in the way, settle them. Returns ``(taken, own)`` as
    :func:`settle_claims` does; all inserted: none taken, all the writer's own."""
    try:
        insert_claims(claims, user_pk, using)
    except IntegrityError:
        return settle_claims(list(claims), user_pk, using)
    return [], set(claims)


def insert_claims(claims, user_pk, using):
    """One multi-row ``INSERT`` of the claims: in autocommit one statement and no transaction
    (``bulk_create`` would open one), inside a transaction in a savepoint of its own."""
    now = connections[using].ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (digest, kind, source, user_pk, now) for digest, (kind, source) in sorted(claims.items())
    ]
    with guarded(using):
        insert_rows(claim_model(), using, ("digest", "kind", "source", "user", "created_at"), rows)


def conflict(claims, taken, identity):
    """The refusal of a save some of whose ``claims`` are ``taken``: on the username when it is
    among them (the name is what the person must change), else on the email."""
    username, email = identity
    kinds = {claims[digest][0] for digest in taken}
    if USERNAME in kinds:
        return CaselessConflict("username", username)
    if LOOKALIKE in kinds:
        return CaselessConflict("username", username, lookalike=True)
    return CaselessConflict("email", email)


def release_claims_of_deleted(sender, instance, using, **kwargs):
    """A deleted user's names are free again at once."""
    if claims_ready(using):
        claim_model()._default_manager.using(using).filter(user=instance.pk).delete()


def refuse_indexed_twin_inside_transaction(sender, instance, using):
    """On PostgreSQL with the expression index (0008), inside a transaction: refuse a twin here,
    before the write. The index refusing the INSERT or UPDATE itself would leave the caller's
    transaction unusable (Django marks it for rollback). Only a twin written around ``save()``
    (unclaimed) gets this far; the claims refuse every other one first."""
    if not transaction.get_connection(using).in_atomic_block:
        return
    user_model = keyed_user_model()
    if not username_index_ready(using, user_model):
        return
    others = user_model._default_manager.using(using)
    if user_row_id(instance) is not None:
        others = others.exclude(pk=user_row_id(instance))
    if users_with_username_digest(others, username_digest(instance.username)).exists():
        raise CaselessConflict("username", instance.username)


def report_username_index_refusals(execute, sql, params, many, context):
    """A PostgreSQL execute wrapper: the expression index (0008) refusing any write to the user
    table (``bulk_create``, ``update()``, raw SQL through Django) is a :class:`CaselessConflict`,
    so callers handle one exception whatever refused."""
    try:
        return execute(sql, params, many, context)
    except IntegrityError as error:
        if not isinstance(error, CaselessConflict) and refused_by_username_index(
            error, keyed_user_model()._meta.db_table
        ):
            raise CaselessConflict("username") from error
        raise


def install_username_index_wrapper(sender, connection, **kwargs):
    """On every new PostgreSQL connection, wrap its queries with the index's translation."""
    if connection.vendor != "postgresql":
        return
    if report_username_index_refusals not in connection.execute_wrappers:
        # Outermost, and first in the list: execute_wrapper() blocks pop their own from the end.
        connection.execute_wrappers.insert(0, report_username_index_refusals)


def connect_receivers():
    """Connect the receivers for the keyed user model (called from ``AppConfig.ready``).

    That model's saves are watched, and its proxies' and multi-table subclasses' (their users
    are rows of its table); none at all when it has no username to key (such a project is
    refused at start-up by ``authfold.E001``, and must not crash before it).
    """
    if not logs_in_by_username(keyed_user_model()):
        return
    connect_to_user_models(post_init, remember_loaded_identity, "authfold-loaded")
    connect_to_user_models(pre_save, claim_before_save, "authfold-key-pre")
    connect_to_user_models(post_save, finish_claims_after_save, "authfold-key-post")
    connect_to_user_models(post_delete, release_claims_of_deleted, "authfold-claims-del")
    connection_created.connect(install_username_index_wrapper, dispatch_uid="authfold-pg-index")
