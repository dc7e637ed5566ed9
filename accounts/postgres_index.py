"""PostgreSQL's unique expression index on the username key, as lookups see it.

Migration 0008 (``authfold.data_migrations.postgres_keys``) builds it on PostgreSQL; once it is
there, "the users with this username" is one index scan on the user table,
``WHERE authfold_username_digest(username) = %s``, with the digest computed in Python by
:func:`authfold.accounts.caseless.username_digest` (the SQL function is generated from it).
"""

from django.db import connections
from django.db.models import CharField, Func
from django.db.models.lookups import Exact

DIGEST_FUNCTION = "authfold_username_digest"
INDEX_SUFFIX = "authfold_username_digest_unique"


class UsernameDigest(Func):
    """``authfold_username_digest(username)``: the expression the index holds, for lookups."""

    function = DIGEST_FUNCTION
    output_field = CharField()


def refused_by_username_index(error, table):
    """Whether a database error is the expression index on ``table`` refusing a caseless twin,
    as PostgreSQL names it (the driver's diagnostics, not the message's text)."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == index_name(table)


def index_name(table):
    """The expression index's name on the user ``table`` (63 bytes at most, PostgreSQL's limit)."""
    return f"{table}_{INDEX_SUFFIX}"[:63]


def index_state(connection, table):
    """``"valid"``, ``"invalid"`` (a ``CREATE INDEX CONCURRENTLY`` that did not finish) or
    ``None``, for the expression index on ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [index_name(table)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return "valid" if row[0] else "invalid"


_index_states = {}


def username_index_ready(using, user_model):
    """Whether database ``using`` is PostgreSQL with the valid expression index on
    ``user_model``'s table; asked once per process and forgotten after a ``migrate``.

    A process started before migration 0008 ran keeps using the key table (still correct: the
    receivers keep it) until it restarts, rather than asking the catalogue on every login.
    """
    table = user_model._meta.db_table
    if (using, table) not in _index_states:
        connection = connections[using]
        ready = connection.vendor == "postgresql" and index_state(connection, table) == "valid"
        _index_states[(using, table)] = ready
    return _index_states[(using, table)]


def forget_username_index_state():
    """Make :func:`username_index_ready` look again (after a ``migrate``)."""
    _index_states.clear()


def users_with_username_digest(users, digest):
    """The users in ``users`` whose username has this digest: one scan of the expression index."""
    return users.filter(Exact(UsernameDigest(users.model.USERNAME_FIELD), digest))
