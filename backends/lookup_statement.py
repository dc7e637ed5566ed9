"""The login lookup as one SQL statement, written once per database and user model.

Building the lookup with the ORM (a queryset per branch, a ``UNION``, compiled on every login)
cost more than the database's work: at a million users it made a login about twice as slow as
``User.objects.get(username=...)``. The statement never changes, only its parameters, so it is
written here once, from the models' own table and column names, and run through Django's
``raw()``, which still converts each column as the ORM would.

Branches, each one index lookup, ``UNION ALL``:

- the caseless match: on PostgreSQL with migration 0008, ``authfold_username_digest(username)``
  on the user table (every row is in that index, so this branch alone finds the exact name
  too); elsewhere the key table's ``username_digest``, joined to the user;
- elsewhere only, the exact name: a user written around ``Model.save()`` has no key yet, and an
  exact-case owner must win over legacy twins;
- the rename log's exact ``old_username`` within the renamed-login period, when it is on.

On PostgreSQL with migration 0015 the statement is a call of the function of
:mod:`authfold.accounts.postgres_login`, which runs these branches with a plan kept between logins.

A row found through the rename log carries that old name in ``authfold_renamed_from`` and the
rename's date in ``authfold_renamed_at``; the others carry NULLs.

Every branch joins the account's failed logins (``LEFT JOIN``, by primary key) into
``authfold_failed_logins``, so the per-account throttle needs no second round trip.
"""

from django.db import connections

from authfold.accounts.postgres_index import DIGEST_FUNCTION
from authfold.accounts.postgres_login import LIMIT, call_statement

RENAMED_FROM = "authfold_renamed_from"
RENAMED_AT = "authfold_renamed_at"
FAILED_LOGINS = "authfold_failed_logins"

_statements = {}


def lookup_statement(
    using,
    user_model,
    key_model,
    record_model,
    indexed,
    renamed,
    failures_model=None,
    function=False,
):
    """The SQL of the lookup on database ``using``; parameters in the order
    :func:`lookup_parameters` gives them. Cached: the same arguments give the same text.
    ``failures_model``: the failed-logins table to join, ``None`` before its migration;
    ``function``: call PostgreSQL's login function (migration 0015) instead."""
    cache_key = (
        using,
        user_model._meta.label,
        indexed,
        renamed,
        failures_model is not None,
        function,
    )
    if cache_key in _statements:
        return _statements[cache_key]
    connection = connections[using]
    if function:
        statement = call_statement(connection, user_model, RENAMED_FROM, RENAMED_AT, FAILED_LOGINS)
    else:
        statement = write_statement(
            connection, user_model, key_model, record_model, indexed, renamed, failures_model
        )
    _statements[cache_key] = statement
    return _statements[cache_key]


def lookup_parameters(connection, login, digest, indexed, renamed_since, function=False):
    """The parameters of :func:`lookup_statement` for one login (``renamed_since``: ``None`` when
    renamed logins are off)."""
    if function:
        since = renamed_since and connection.ops.adapt_datetimefield_value(renamed_since)
        return [digest, login, since]
    parameters = [digest] if indexed else [digest, login]
    if renamed_since is not None:
        parameters += [login, connection.ops.adapt_datetimefield_value(renamed_since)]
    return parameters


def converted_renamed_at(connection, record_model, value):
    """The ``authfold_renamed_at`` column of a row as a datetime, converted as the ORM would
    (SQLite returns the text of a UNION's computed column)."""
    field = record_model._meta.get_field("created_at")
    expression = field.get_col(record_model._meta.db_table)
    for converter in connection.ops.get_db_converters(expression):
        value = converter(value, expression, connection)
    return value


def write_statement(
    connection, user_model, key_model, record_model, indexed, renamed, failures_model=None
):
    """The statement's text (see the module docstring)."""
    quote = connection.ops.quote_name
    users = quote(user_model._meta.db_table)

    def column(model, name, table=None):
        return f"{table or quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"

    selected = ", ".join(
        f"{users}.{quote(field.column)}" for field in user_model._meta.concrete_fields
    )
    # MariaDB/MySQL type a UNION's columns themselves; a cast would carry the connection's
    # collation and clash with the rename log's ("Illegal mix of collations for UNION").
    # PostgreSQL needs the type of a NULL column.
    if connection.vendor == "mysql":
        not_renamed = f"NULL AS {RENAMED_FROM}, NULL AS {RENAMED_AT}"
    else:
        text = "varchar(150)"
        moment = connection.data_types["DateTimeField"]
        not_renamed = (
            f"CAST(NULL AS {text}) AS {RENAMED_FROM}, CAST(NULL AS {moment}) AS {RENAMED_AT}"
        )
    user_pk = column(user_model, user_model._meta.pk.name)
    if failures_model is not None:
        # Joined once here, every branch reads its rows' failures ("FROM users LEFT JOIN ...").
        failures = quote(failures_model._meta.db_table)
        selected += f", {column(failures_model, 'failed_at')} AS {FAILED_LOGINS}"
        users += f" LEFT JOIN {failures} ON {user_pk} = {column(failures_model, 'user')}"
    if indexed:
        branches = [
            f"SELECT {selected}, {not_renamed} FROM {users} "
            f"WHERE {DIGEST_FUNCTION}({column(user_model, 'username')}) = %s"
        ]
    else:
        keys = quote(key_model._meta.db_table)
        branches = [
            f"SELECT {selected}, {not_renamed} FROM {users} "
            f"INNER JOIN {keys} ON {user_pk} = {column(key_model, 'user')} "
            f"WHERE {column(key_model, 'username_digest')} = %s",
            f"SELECT {selected}, {not_renamed} FROM {users} "
            f"WHERE {column(user_model, 'username')} = %s",
        ]
    if renamed:
        records = quote(record_model._meta.db_table)
        old_username = column(record_model, "old_username")
        created_at = column(record_model, "created_at")
        branches.append(
            f"SELECT {selected}, {old_username} AS {RENAMED_FROM}, {created_at} AS {RENAMED_AT} "
            f"FROM {users} "
            f"INNER JOIN {records} ON {user_pk} = {column(record_model, 'user')} "
            f"WHERE {old_username} = %s AND {column(record_model, 'reverted_at')} IS NULL "
            f"AND {created_at} >= %s"
        )
    return " UNION ALL ".join(branches) + f" LIMIT {LIMIT}"
