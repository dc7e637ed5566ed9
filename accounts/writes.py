"""How authfold writes its own rows: one multi-row ``INSERT`` that names only the columns given,
a savepoint around a write inside the caller's transaction, and a deadlock told from the driver's
error code."""

import contextlib

from django.db import connections, transaction

# How the databases report a deadlock: MariaDB/MySQL's error number, PostgreSQL's SQLSTATE; the
# driver's code, never the message's text.
DEADLOCK_CODES = {1213, "40P01"}


def is_deadlock(error):
    """Whether a database error is the server choosing this transaction as a deadlock's victim."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if code is None and cause is not None and cause.args:
        code = cause.args[0]
    return code in DEADLOCK_CODES


def insert_rows(model, using, names, rows):
    """One multi-row ``INSERT`` of ``rows`` (tuples of values for the fields ``names``) naming
    only those columns: a column a later migration adds is left out until it exists."""
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row] * len(rows))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for values in rows for value in values])


def guarded(using):
    """A savepoint inside a transaction, so that a refusal leaves the caller's transaction usable;
    nothing in autocommit, where each statement stands alone."""
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return contextlib.nullcontext()
