"""Keeps every user's :class:`~authfold.accounts.models.CaselessKey` in step with the user, on each save.

The receivers see every write that goes through ``Model.save()`` (forms, serializers, the admin,
``create_user``, other apps' code, ``loaddata``). The names a save changes are reserved first
(``authfold.accounts.reservations``), the row is written, then its key, then the reservation is
released: a process killed anywhere in between leaves a reservation that holds the name, never a
row whose name no key holds. A refused key takes the row's write back (to a savepoint inside a
transaction; in autocommit, by deleting the new row or restoring the renamed one).

Writes that bypass ``save()`` (``bulk_create``, ``update()``, ``bulk_update``, raw SQL) leave a
user without a key or with a stale one; ``authfold.data_migrations.keys.sync_caseless_keys`` repairs them
(migration 0003 runs it, ``conflict_audit --fix`` backfills). docs/ADOPTING.md lists every path.
"""

import contextvars
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save, pre_save

from authfold.accounts.caseless import (
    caseless_keys_ready,
    email_digest,
    skeleton_digest,
    skeleton_digests_ready,
    table_ready,
    username_digest,
)
from authfold.accounts.postgres_index import (
    refused_by_username_index,
    username_index_ready,
    users_with_username_digest,
)
from authfold.accounts.reservations import release_reservation, reserve_names
from authfold.accounts.user_model import keyed_user_model, logs_in_by_username


class CaselessConflict(IntegrityError):
    """The database refused a user whose username (or email) is caselessly taken.

    An ``IntegrityError``, so code that already handles those keeps working; ``field`` names the
    field to report the error on.
    """

    def __init__(self, field, value=None):
        self.field = field
        self.value = value
        named = f"the {field} {value!r}" if value is not None else f"this {field}"
        super().__init__(f"another account already has {named} (in some case)")


def key_fields(username, email):
    """The column values of a user's key row."""
    return {
        "username_digest": username_digest(username),
        "email_digest": email_digest(email),
        "skeleton_digest": skeleton_digest(username),
    }


@dataclass(frozen=True)
class StoredKey:
    """A user's key row as the database holds it."""

    username_digest: str
    email_digest: str | None
    skeleton_digest: str | None
    email_claim: str | None


def stored_key(user_id, using):
    """The key row of user ``user_id``, or ``None`` if it has none. Its skeleton is ``None``
    before migration 0006 has added the column (so a key written then is never "the same")."""
    from authfold.accounts.models import CaselessKey

    columns = ["username_digest", "email_digest", "email_claim"]
    if skeleton_digests_ready(using):
        columns.append("skeleton_digest")
    row = CaselessKey._default_manager.using(using).filter(user_id=user_id).values(*columns).first()
    return None if row is None else StoredKey(**{"skeleton_digest": None, **row})


def claimed_key_fields(username, email, stored=None):
    """:func:`key_fields` and the email claim (``authfold.data_migrations.email_claims``): the
    address's digest, except that a grandfathered account keeps its NULL while its address stays."""
    fields = key_fields(username, email)
    keeps_address = stored is not None and stored.email_digest == fields["email_digest"]
    fields["email_claim"] = stored.email_claim if keeps_address else fields["email_digest"]
    return fields


def refused_field(error):
    """The user field whose caseless key a database refusal is about, or ``None`` for another one.

    Every database names the refused column or its constraint, and both contain the column name
    (SQLite: ``UNIQUE constraint failed: authfold_caselesskey.username_digest``; PostgreSQL and
    MariaDB: the constraint ``authfold_caselesskey_username_digest_unique``).
    """
    message = str(error)
    if "email_digest" in message or "email_claim" in message:
        return "email"
    if "username_digest" in message:
        return "username"
    return None


def write_key(key_model, user_id, username, email, using, new=False, fields=None):
    """Write one user's key row inside a savepoint; a caseless refusal becomes CaselessConflict.

    ``fields``: the columns to write, :func:`key_fields` by default.
    ``new``: the user was just inserted, so there is normally no row to update. If one appeared
    meanwhile (a backfill running beside live sign-ups, as migration 0003 does), it is updated.
    A refusal by the key of a user who no longer exists (see :func:`orphan_keys`) removes that
    dead row and writes once more. Any other integrity error is raised as it is.
    """
    fields = fields or key_fields(username, email)
    try:
        try:
            store_key(key_model, user_id, fields, using, new)
        except IntegrityError as error:
            field = refused_field(error)
            if field is None or not delete_orphan_keys_with(key_model, field, fields, using):
                raise
            store_key(key_model, user_id, fields, using, new)
    except IntegrityError as error:
        field = refused_field(error)
        if field is None:
            raise
        if field == "email" and username_taken_by_another(key_model, user_id, fields, using):
            field = "username"  # both are taken: the name is what the person must change
        raise CaselessConflict(field, username if field == "username" else email) from error


def username_taken_by_another(key_model, user_id, fields, using):
    """Whether another user's key holds the username digest in ``fields``."""
    keys = key_model._default_manager.using(using)
    return keys.filter(username_digest=fields["username_digest"]).exclude(user_id=user_id).exists()


def store_key(key_model, user_id, fields, using, new):
    """Insert or update one key row inside a savepoint; a caseless refusal is raised as it is."""
    keys = key_model._default_manager.using(using)
    try:
        with transaction.atomic(using=using):
            if new or not keys.filter(user_id=user_id).update(**fields):
                insert_key(key_model, user_id, fields, using)
    except IntegrityError as error:
        if refused_field(error) is not None:
            raise
        # Not a twin: this user's row was written between our look and our insert.
        with transaction.atomic(using=using):
            if not keys.filter(user_id=user_id).update(**fields):
                raise


def insert_key(key_model, user_id, fields, using):
    """``INSERT`` a key row with exactly these columns: before migration 0007 the table has no
    ``email_claim``, which the model's own ``create()`` would name; before 0006 the skeleton is
    left out (:func:`~authfold.accounts.models.columns_present`)."""
    from authfold.accounts.models import columns_present

    present = columns_present(list(fields), using)
    fields = {name: value for name, value in fields.items() if name in present}
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = {key_model._meta.pk.column: user_id}
    columns.update(
        {key_model._meta.get_field(name).column: value for name, value in fields.items()}
    )
    names = ", ".join(quote(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(key_model._meta.db_table)} ({names}) VALUES ({placeholders})",
            list(columns.values()),
        )


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


def delete_orphan_keys_with(key_model, field, fields, using):
    """Delete the dead key rows holding this ``field``'s digest; returns whether there were any."""
    column = "email_claim" if field == "email" and "email_claim" in fields else f"{field}_digest"
    dead = orphan_keys(key_model, using).filter(**{column: fields[column]})
    # Look first, with a plain read: a refusal is nearly always a live twin, and a DELETE that
    # searches the digest range would lock it (InnoDB), deadlocking concurrent sign-ups of one
    # name. The dead rows found are then deleted by primary key, still only if dead.
    dead_ids = list(dead.values_list("pk", flat=True))
    if not dead_ids:
        return False
    with transaction.atomic(using=using):
        deleted, _ = dead.filter(pk__in=dead_ids).delete()
    return deleted > 0


def touches_identity(update_fields):
    """Whether a save with these ``update_fields`` can change the username or the email."""
    return update_fields is None or bool({"username", "email"} & set(update_fields))


def reservations_ready(using):
    """Whether migration 0007 has run on ``using``: the reservation table and the email claims."""
    from authfold.accounts.models import KeyReservation

    return table_ready(KeyReservation, using)


# Where update_key_before_save leaves what write_key_after_save finishes (PendingKey).
PENDING_ATTRIBUTE = "_authfold_pending_key"

# Where update_key_before_save leaves the savepoint it took before a user's write, for the
# receivers of databases not yet migrated to 0007 (which reserve nothing).
SAVEPOINT_ATTRIBUTE = "_authfold_savepoint_before_insert"

# The username of the user this thread (or task) is saving, so that a refusal by the user table's
# own index can name it (see report_exact_twins_as_conflicts).
username_being_saved = contextvars.ContextVar("authfold_username_being_saved", default=None)


def refuse_indexed_twin_inside_transaction(sender, instance, raw, using, update_fields):
    """On PostgreSQL with the expression index (0008), inside a transaction: refuse a twin here,
    before the write. The index refusing the INSERT or UPDATE itself would leave the caller's
    transaction unusable (Django marks it for rollback), where a refusal by the key table, in
    a receiver, does not. Two such writes racing are still refused by the index."""
    if raw or not touches_identity(update_fields):
        return
    if not transaction.get_connection(using).in_atomic_block:
        return
    if not username_index_ready(using, sender):
        return
    others = sender._default_manager.using(using)
    if instance.pk is not None:
        others = others.exclude(pk=instance.pk)
    if users_with_username_digest(others, username_digest(instance.username)).exists():
        raise CaselessConflict("username", instance.username)


@dataclass
class PendingKey:
    """A save between its two receivers: what to write after the row, and how to take it back."""

    fields: dict
    reservation: int | None
    savepoint: str | None
    # The username and email the row had, to restore a refused rename in autocommit; None for a
    # new user.
    previous: tuple | None


def update_key_before_save(sender, instance, raw, using, update_fields, **kwargs):
    """Before the row is written: reserve the names the save changes, refuse a taken one.

    "Existing" by the database, not by ``_state.adding``: ``User(pk=7, ...).save()`` updates row 7.
    """
    username_being_saved.set(instance.username)
    refuse_indexed_twin_inside_transaction(sender, instance, raw, using, update_fields)
    if raw or not caseless_keys_ready(using):
        return
    if not reservations_ready(using):
        update_key_before_save_unreserved(sender, instance, using, update_fields)
        return
    if instance.pk is not None and not touches_identity(update_fields):
        return
    user_model = keyed_user_model()
    email = getattr(instance, user_model.get_email_field_name(), "")
    previous, stored = current_identity(sender, instance, using)
    fields = claimed_key_fields(instance.username, email, stored)
    if previous is not None and stored == StoredKey(**fields):
        return  # the key already says this: nothing changes
    changed = {
        column: fields[column]
        for column in ("username_digest", "email_digest")
        if fields[column] is not None
        and (stored is None or getattr(stored, column) != fields[column])
    }
    connection = transaction.get_connection(using)
    # Inside a transaction a refused save is taken back by rolling back to here, not by a DELETE:
    # its cascade's range deletes on related tables lock index gaps (InnoDB), where concurrent
    # sign-ups insert their own rows, and deadlocked them. (The connection's own savepoint():
    # Django 6.1 deprecates transaction.savepoint() for savepoint_create().)
    savepoint = connection.savepoint() if connection.in_atomic_block else None
    reservation = None
    try:
        reservation = reserve_names(instance.username, email, changed, using, instance.pk)
        if previous is not None:
            refuse_if_taken(sender, instance.pk, instance.username, email, fields, using)
    except CaselessConflict:
        if savepoint is not None:
            rollback_to(savepoint, using)  # the reservation too
        else:
            release_reservation(reservation, using)
        raise
    instance.__dict__[PENDING_ATTRIBUTE] = PendingKey(fields, reservation, savepoint, previous)


def current_identity(sender, instance, using):
    """The row's username and email, and its stored key, for a user already in the database;
    ``(None, None)`` for a new one."""
    if instance.pk is None:
        return None, None
    email_field = sender.get_email_field_name()
    row = (
        sender._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list(sender.USERNAME_FIELD, email_field)
        .first()
    )
    if row is None:
        return None, None
    return row, stored_key(instance.pk, using)


def refuse_if_taken(sender, user_pk, username, email, fields, using):
    """Before an existing user's row changes: refuse a name or address another account's key
    holds. (Its own reservation keeps other writes of them away until its key is written.)"""
    others = sender._base_manager.using(using).exclude(pk=user_pk)
    if others.filter(caseless_key__username_digest=fields["username_digest"]).exists():
        raise CaselessConflict("username", username)
    claim = fields["email_claim"]
    if claim is not None and others.filter(caseless_key__email_claim=claim).exists():
        raise CaselessConflict("email", email)


def write_key_after_save(sender, instance, created, raw, using, **kwargs):
    """After the row: write its key, then release the reservation; a refused key takes the row's
    write back (inside a transaction to the savepoint taken before it; in autocommit, where Django
    has committed the row, by deleting a new user or restoring a renamed one).

    ``loaddata`` (``raw``) skips ``pre_save`` work (rows may arrive in any order), so its keys are
    written here; it runs in one transaction, which a refusal rolls back whole.
    """
    pending = instance.__dict__.pop(PENDING_ATTRIBUTE, None)
    if pending is None:
        write_key_after_save_unreserved(sender, instance, created, raw, using)
        return
    from authfold.accounts.models import CaselessKey

    email = getattr(instance, sender.get_email_field_name(), "")
    try:
        write_key(
            CaselessKey,
            instance.pk,
            instance.username,
            email,
            using,
            new=created,
            fields=pending.fields,
        )
    except CaselessConflict:
        take_back(sender, instance, created, pending, using)
        raise
    release_reservation(pending.reservation, using)
    release(pending.savepoint, using)


def take_back(sender, instance, created, pending, using):
    """Undo a save whose key was refused, and drop its reservation."""
    if pending.savepoint is not None:
        rollback_to(pending.savepoint, using)  # the reservation too
    else:
        rows = sender._default_manager.using(using).filter(pk=instance.pk)
        if created:
            rows.delete()
        else:
            email_field = sender.get_email_field_name()
            username, email = pending.previous
            rows.update(**{sender.USERNAME_FIELD: username, email_field: email})
        release_reservation(pending.reservation, using)
    if created:
        instance.pk = None
        instance._state.adding = True


def row_exists(sender, instance, using):
    """Whether the user's row is already in the database (so saving it is an UPDATE)."""
    return sender._default_manager.using(using).filter(pk=instance.pk).exists()


def update_key_before_save_unreserved(sender, instance, using, update_fields):
    """Before migration 0007: an existing user's key is written before its row."""
    connection = transaction.get_connection(using)
    if instance._state.adding and connection.in_atomic_block:
        instance.__dict__[SAVEPOINT_ATTRIBUTE] = connection.savepoint()
    if instance.pk is None or not touches_identity(update_fields):
        return
    if instance._state.adding and not row_exists(sender, instance, using):
        return  # an INSERT with a chosen primary key: the key follows in post_save
    from authfold.accounts.models import CaselessKey

    write_key(CaselessKey, instance.pk, instance.username, instance.email, using)


def write_key_after_save_unreserved(sender, instance, created, raw, using):
    """A new user's key (or any ``loaddata`` row's) when nothing was reserved: before 0007, or
    ``loaddata``. A refused new user is taken back, as :func:`take_back` does."""
    savepoint = instance.__dict__.pop(SAVEPOINT_ATTRIBUTE, None)
    if not (created or raw) or not caseless_keys_ready(using):
        release(savepoint, using)
        return
    from authfold.accounts.models import CaselessKey

    fields = None
    if reservations_ready(using):
        fields = claimed_key_fields(
            instance.username, instance.email, stored_key(instance.pk, using)
        )
    try:
        write_key(
            CaselessKey,
            instance.pk,
            instance.username,
            instance.email,
            using,
            new=created and not raw,
            fields=fields,
        )
    except CaselessConflict:
        if created:
            if savepoint is not None:
                transaction.savepoint_rollback(savepoint, using=using)
            else:
                sender._default_manager.using(using).filter(pk=instance.pk).delete()
            instance.pk = None
            instance._state.adding = True
        raise
    release(savepoint, using)


def rollback_to(savepoint, using):
    """Roll back to a savepoint taken before a user's save, unless the database has already
    rolled back the whole transaction (InnoDB does on a deadlock): the caller's ``atomic`` ends it."""
    if savepoint is not None and not transaction.get_connection(using).needs_rollback:
        transaction.savepoint_rollback(savepoint, using=using)


def release(savepoint, using):
    """Release a savepoint taken before a user's save, once the save stands."""
    if savepoint is not None:
        transaction.savepoint_commit(savepoint, using=using)


def writes_user_table(sql, inserts_only=False):
    """Whether ``sql`` inserts into (or updates) the user table."""
    table = keyed_user_model()._meta.db_table.upper()
    statement = sql.lstrip()[:200].upper()
    verbs = ("INSERT",) if inserts_only else ("INSERT", "UPDATE")
    return statement.startswith(verbs) and table in statement


def is_exact_username_refusal(error, sql):
    """Whether ``error`` is the user table's own unique index refusing an exact-case username.

    Two sign-ups of the *same* spelling race to the user row before either writes its key, so
    that index, not ours, refuses the second. Told apart by the statement (a write to the user
    table) and by how each database names the index (``auth_user.username`` on SQLite,
    ``auth_user_username_key`` on PostgreSQL, key ``'username'`` on MariaDB/MySQL).
    """
    if not isinstance(error, IntegrityError) or not writes_user_table(sql):
        return False
    user_model = keyed_user_model()
    table = user_model._meta.db_table
    column = user_model._meta.get_field(user_model.USERNAME_FIELD).column
    message = str(error)
    if "unique" not in message.lower() and "duplicate" not in message.lower():
        return False
    return any(
        name in message for name in (f"{table}.{column}", f"{table}_{column}_key", f"'{column}'")
    )


# InnoDB's deadlock error. Three transactions inserting one username: when the first rolls back
# (it lost the race for the key), the two waiting on its row deadlock and one is rolled back.
MYSQL_DEADLOCK = 1213


def is_username_insert_deadlock(error, sql):
    """Whether ``error`` is InnoDB's deadlock between simultaneous inserts of one username.

    An INSERT into the user table locks nothing another INSERT waits for except the unique
    username index, so its deadlock is always a race for one name: the name is being taken.
    """
    return (
        isinstance(error, OperationalError)
        and error.args[:1] == (MYSQL_DEADLOCK,)
        and writes_user_table(sql, inserts_only=True)
    )


def refused_username(params, many):
    """The username the refused statement wrote, when it is the one being saved; else ``None``."""
    username = username_being_saved.get()
    rows = params if many else [params]
    for row in rows or ():
        if username is not None and isinstance(row, (list, tuple)) and username in row:
            return username
    return None


def report_exact_twins_as_conflicts(execute, sql, params, many, context):
    """A database execute wrapper: every refusal of a username is a CaselessConflict.

    Besides our key index: the user table's own unique index (the same spelling, twice at once),
    PostgreSQL's expression index on the username key (any write path, migration 0008) and
    InnoDB's deadlock between such inserts. Callers handle one exception, whatever refused.
    """
    try:
        return execute(sql, params, many, context)
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, CaselessConflict):
            raise
        if (
            is_exact_username_refusal(error, sql)
            or is_username_insert_deadlock(error, sql)
            or (writes_user_table(sql) and refused_by_username_index(error))
        ):
            raise CaselessConflict("username", refused_username(params, many)) from error
        raise


def install_conflict_wrapper(sender, connection, **kwargs):
    """On every new database connection, wrap its queries with the exact-twin translation."""
    if report_exact_twins_as_conflicts not in connection.execute_wrappers:
        # Outermost, and first in the list: execute_wrapper() blocks pop their own from the end.
        connection.execute_wrappers.insert(0, report_exact_twins_as_conflicts)


def connect_receivers():
    """Connect the receivers for the keyed user model (called from ``AppConfig.ready``).

    Only that model's saves are watched; none at all when it has no username to key (such a
    project is refused at start-up by ``authfold.E001``, and must not crash before it).
    """
    user_model = keyed_user_model()
    if not logs_in_by_username(user_model):
        return
    pre_save.connect(update_key_before_save, sender=user_model, dispatch_uid="authfold-key-pre")
    post_save.connect(write_key_after_save, sender=user_model, dispatch_uid="authfold-key-post")
    connection_created.connect(install_conflict_wrapper, dispatch_uid="authfold-exact-twins")
