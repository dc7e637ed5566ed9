"""Keeps every user's :class:`~authfold.accounts.models.CaselessKey` in step with the user, on each save.

The receivers see every write that goes through ``Model.save()`` (forms, serializers, the admin,
``create_user``, other apps' code, ``loaddata``). For an existing user the key is written *before*
the row, so a refusal stops the user's own update; for a new user it is written just after the
INSERT (the key points at the row), and a refused twin is deleted again.

Writes that bypass ``save()`` (``bulk_create``, ``update()``, ``bulk_update``, raw SQL) leave a
user without a key or with a stale one; ``authfold.data_migrations.keys.sync_caseless_keys`` repairs them
(migration 0003 runs it, ``conflict_audit --fix`` backfills). docs/ADOPTING.md lists every path.
"""

import contextvars

from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.signals import connection_created
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save, pre_save

from authfold.accounts.caseless import (
    caseless_keys_ready,
    email_digest,
    skeleton_digest,
    username_digest,
)
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


def refused_field(error):
    """The user field whose caseless key a database refusal is about, or ``None`` for another one.

    Every database names the refused column or its constraint, and both contain the column name
    (SQLite: ``UNIQUE constraint failed: authfold_caselesskey.username_digest``; PostgreSQL and
    MariaDB: the constraint ``authfold_caselesskey_username_digest_unique``).
    """
    message = str(error)
    if "email_digest" in message:
        return "email"
    if "username_digest" in message:
        return "username"
    return None


def write_key(key_model, user_id, username, email, using, new=False):
    """Write one user's key row inside a savepoint; a caseless refusal becomes CaselessConflict.

    ``new``: the user was just inserted, so there is normally no row to update. If one appeared
    meanwhile (a backfill running beside live sign-ups, as migration 0003 does), it is updated.
    A refusal by the key of a user who no longer exists (see :func:`orphan_keys`) removes that
    dead row and writes once more. Any other integrity error is raised as it is.
    """
    fields = key_fields(username, email)
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
        raise CaselessConflict(field, username if field == "username" else email) from error


def store_key(key_model, user_id, fields, using, new):
    """Insert or update one key row inside a savepoint; a caseless refusal is raised as it is."""
    keys = key_model._default_manager.using(using)
    try:
        with transaction.atomic(using=using):
            if new or not keys.filter(user_id=user_id).update(**fields):
                keys.create(user_id=user_id, **fields)
    except IntegrityError as error:
        if refused_field(error) is not None:
            raise
        # Not a twin: this user's row was written between our look and our insert.
        with transaction.atomic(using=using):
            if not keys.filter(user_id=user_id).update(**fields):
                raise


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
    column = f"{field}_digest"
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


def row_exists(sender, instance, using):
    """Whether the user's row is already in the database (so saving it is an UPDATE)."""
    return sender._default_manager.using(using).filter(pk=instance.pk).exists()


# Where update_key_before_save leaves the savepoint it took before a new user's INSERT.
SAVEPOINT_ATTRIBUTE = "_authfold_savepoint_before_insert"

# The username of the user this thread (or task) is saving, so that a refusal by the user table's
# own index can name it (see report_exact_twins_as_conflicts).
username_being_saved = contextvars.ContextVar("authfold_username_being_saved", default=None)


def update_key_before_save(sender, instance, raw, using, update_fields, **kwargs):
    """For an existing user, write the new key first, so a refusal stops the user's own update.

    "Existing" by the database, not by ``_state.adding``: ``User(pk=7, ...).save()`` updates row 7.
    """
    username_being_saved.set(instance.username)
    connection = transaction.get_connection(using)
    adding = instance._state.adding and not raw
    if adding and connection.in_atomic_block and caseless_keys_ready(using):
        # Inside a transaction a refused new user is taken back by rolling back to here, not by
        # a DELETE: its cascade's range deletes on related tables lock index gaps (InnoDB), where
        # concurrent sign-ups insert their own rows, and deadlocked them. (The connection's own
        # savepoint(): Django 6.1 deprecates transaction.savepoint() for savepoint_create().)
        instance.__dict__[SAVEPOINT_ATTRIBUTE] = connection.savepoint()
    if raw or instance.pk is None:
        return
    if not touches_identity(update_fields) or not caseless_keys_ready(using):
        return
    if instance._state.adding and not row_exists(sender, instance, using):
        return  # an INSERT with a chosen primary key: the key follows in post_save
    from authfold.accounts.models import CaselessKey

    write_key(CaselessKey, instance.pk, instance.username, instance.email, using)


def write_key_after_save(sender, instance, created, raw, using, **kwargs):
    """For a new user (or any ``loaddata`` row), write the key; if refused, take the user back out.

    Inside a transaction, by rolling back to the savepoint ``update_key_before_save`` took. With
    no transaction open, Django has committed the user's row before ``post_save``, so a
    compensating delete keeps a refused twin from staying behind. ``loaddata`` (``raw``) skips
    ``pre_save`` work (rows may arrive in any order), so its keys are written here; it runs in one
    transaction, which a refusal rolls back whole.
    """
    savepoint = instance.__dict__.pop(SAVEPOINT_ATTRIBUTE, None)
    if not (created or raw) or not caseless_keys_ready(using):
        release(savepoint, using)
        return
    from authfold.accounts.models import CaselessKey

    try:
        write_key(
            CaselessKey,
            instance.pk,
            instance.username,
            instance.email,
            using,
            new=created and not raw,
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

    Besides our key index: the user table's own unique index (the same spelling, twice at once)
    and InnoDB's deadlock between such inserts. Callers handle one exception, whatever refused.
    """
    try:
        return execute(sql, params, many, context)
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, CaselessConflict):
            raise
        if is_exact_username_refusal(error, sql) or is_username_insert_deadlock(error, sql):
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
