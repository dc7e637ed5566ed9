"""On PostgreSQL, the login lookup as a server-side function, so its plan is kept between logins.

PostgreSQL plans every statement a client sends. The lookup's ``UNION ALL`` (the caseless match
and the rename log, each joined to the failed logins) took longer to plan than the lookup of an
exact name took to run, on every login. A PL/pgSQL function plans its query once per database
session and keeps the plan; the statement the client sends is then a single function scan.

``authfold_login_rows(digest, typed, renamed_since)`` returns the same rows as the statement of
:mod:`authfold.backends.lookup_statement`: each user as the user table's row, its failed logins,
and, for a row found through the rename log, the old name and the rename's date. With
``renamed_since`` NULL the rename log is not read. Migration 0015 creates it from the models'
table and column names; on a database without it the backend sends the statement instead.

The function's first call in a database session compiles and plans it, which costs more than
the statement (a few milliseconds): a connection's first login sends the statement, and only
the logins after it on the same connection call the function. A project that closes its
connection after each request (``CONN_MAX_AGE = 0``, Django's default) keeps sending the
statement; one with persistent connections or a pool calls the function.
"""

import re
import weakref

from django.db import connections

from authfold.accounts.postgres_index import DIGEST_FUNCTION

FUNCTION = "authfold_login_rows"
PARAMETERS = ("login_digest", "login_typed", "login_renamed_since")
SIGNATURE = f"{FUNCTION}(text, text, timestamp with time zone)"
# Rows a login reads at most, here and in the statement of authfold.backends.lookup_statement:
# more for one name means something is badly wrong.
LIMIT = 20


def create_function_sql(connection, user_model, failures_model, record_model):
    """``CREATE OR REPLACE FUNCTION`` for these models' tables (their names as migrated)."""
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(alias, model, name):
        return f"{alias}.{quote(model._meta.get_field(name).column)}"

    def db_type(model, name):
        return model._meta.get_field(name).db_type(connection)

    user_pk = column("u", user_model, user_model._meta.pk.name)
    username = column("u", user_model, "username")
    failed_at = column("f", failures_model, "failed_at")
    failures_of_user = f"{column('f', failures_model, 'user')} = {user_pk}"
    renamed_from = db_type(record_model, "old_username")
    renamed_at = db_type(record_model, "created_at")
    # The parameters are prefixed: in PL/pgSQL a parameter shadows a column of the same name.
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    login_digest text, login_typed text, login_renamed_since timestamp with time zone
)
RETURNS TABLE (
    account {table(user_model)},
    failed_at {db_type(failures_model, "failed_at")},
    renamed_from {renamed_from},
    renamed_at {renamed_at}
)
LANGUAGE plpgsql STABLE
AS $function$
BEGIN
    RETURN QUERY
    SELECT u, {failed_at}, NULL::{renamed_from}, NULL::{renamed_at}
    FROM {table(user_model)} u
    LEFT JOIN {table(failures_model)} f ON {failures_of_user}
    WHERE {DIGEST_FUNCTION}(({username})::text) = login_digest
    UNION ALL
    SELECT u, {failed_at}, {column("r", record_model, "old_username")},
        {column("r", record_model, "created_at")}
    FROM {table(record_model)} r
    JOIN {table(user_model)} u ON {user_pk} = {column("r", record_model, "user")}
    LEFT JOIN {table(failures_model)} f ON {failures_of_user}
    WHERE login_renamed_since IS NOT NULL
        AND {column("r", record_model, "old_username")} = login_typed
        AND {column("r", record_model, "reverted_at")} IS NULL
        AND {column("r", record_model, "created_at")} >= login_renamed_since
    LIMIT {LIMIT};
END
$function$
"""


def drop_function_sql():
    return f"DROP FUNCTION IF EXISTS {SIGNATURE}"


def call_statement(connection, user_model, renamed_from, renamed_at, failed_logins):
    """The lookup as the client sends it: one function scan, each user column by its own name
    (so ``raw()`` builds the users), then the three extra columns by the names given."""
    quote = connection.ops.quote_name
    selected = ", ".join(
        f"(l.account).{quote(field.column)} AS {quote(field.column)}"
        for field in user_model._meta.concrete_fields
    )
    return (
        f"SELECT {selected}, l.failed_at AS {failed_logins}, l.renamed_from AS {renamed_from}, "
        f"l.renamed_at AS {renamed_at} FROM {FUNCTION}(%s, %s, %s) l"
    )


_function_states = {}


def login_function_ready(using, user_model):
    """Whether database ``using`` has the function, returning rows of ``user_model``'s table
    (a project that swaps its user model keeps the function of the table it was created for);
    asked once per process and forgotten after a ``migrate``, as the expression index's state."""
    table = user_model._meta.db_table
    if (using, table) not in _function_states:
        connection = connections[using]
        ready = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_class c "
                    "ON c.oid = to_regclass(%s) "
                    "WHERE p.oid = to_regprocedure(%s) AND c.reltype = ANY (p.proallargtypes))",
                    [connection.ops.quote_name(table), SIGNATURE],
                )
                ready = cursor.fetchone()[0]
        _function_states[(using, table)] = ready
    return _function_states[(using, table)]


# The driver's connections that have served a login (forgotten with them).
_served_a_login = weakref.WeakSet()


def served_a_login_before(connection):
    """Whether this database connection (the driver's, so a reconnection is a new one) has served
    a login before; notes that it now has."""
    connection.ensure_connection()
    driver_connection = connection.connection
    if driver_connection in _served_a_login:
        return True
    _served_a_login.add(driver_connection)
    return False


def forget_login_function_state():
    """Make :func:`login_function_ready` look again."""
    _function_states.clear()


def explain_kept_plan(cursor, arguments_sql):
    """The plan the function keeps for its query, as ``EXPLAIN`` lines: the generic plan (made
    without the parameters' values, as PL/pgSQL keeps it), for the arguments ``arguments_sql``
    (their SQL text, as in a logged call). ``EXPLAIN`` of the call itself shows only a function
    scan."""
    cursor.execute("SELECT pg_get_functiondef(to_regprocedure(%s))", [SIGNATURE])
    [definition] = cursor.fetchone()
    query = re.search(r"RETURN QUERY(.*?);\s*END", definition, re.DOTALL)[1]
    for number, name in enumerate(PARAMETERS, 1):
        query = re.sub(rf"\b{name}\b", f"${number}", query)
    cursor.execute(f"PREPARE authfold_kept_plan(text, text, timestamp with time zone) AS {query}")
    try:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN EXECUTE authfold_kept_plan({arguments_sql})")
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.execute("RESET plan_cache_mode")
        cursor.execute("DEALLOCATE authfold_kept_plan")
