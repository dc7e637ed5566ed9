"""The backend's lookups use indexes, never a scan of ``auth_user``, on every database.

The plans come from the database itself (``EXPLAIN``) for the exact SQL the backend ran during a
login, after enough rows and fresh statistics that the planner's choice means something: with a
handful of rows a full scan is the cheapest plan and proves nothing. Run with ``-s`` to see them.
"""

import json

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import CaselessKey
from data_migrations.keys import backfill_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()
USERS = 20_000
TABLES = {User._meta.db_table, CaselessKey._meta.db_table}

# transaction=True: MariaDB's ANALYZE TABLE commits, so the rows must be flushed, not rolled back.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def many_users(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = [User(username=f"user{n:06d}", email=f"user{n:06d}@example.com") for n in range(USERS)]
    User.objects.bulk_create(users, batch_size=2000)
    backfill_caseless_keys(User, CaselessKey, connection.alias)
    UserFactory(username="Maria")
    refresh_statistics()


def refresh_statistics():
    tables = [connection.ops.quote_name(table) for table in sorted(TABLES)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
        elif connection.vendor == "mysql":
            cursor.execute(f"ANALYZE TABLE {', '.join(tables)}")
            cursor.fetchall()
        else:
            cursor.execute("ANALYZE")


def queries_of_a_login(login):
    """The SELECTs that read auth_user while ``login`` logs in as Maria (another case)."""
    with CaptureQueriesContext(connection) as context:
        assert authenticate(None, username=login, password=DEFAULT_PASSWORD).username == "Maria"
    return [
        query["sql"]
        for query in context.captured_queries
        if query["sql"].startswith("SELECT") and User._meta.db_table in query["sql"]
    ]


def explain(sql):
    """The plan of ``sql`` as this database reports it: SQLite's, MariaDB's or PostgreSQL's."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            return plan if isinstance(plan, list) else json.loads(plan)
        prefix = "EXPLAIN" if connection.vendor == "mysql" else "EXPLAIN QUERY PLAN"
        cursor.execute(f"{prefix} {sql}")
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def postgres_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from postgres_nodes(child)


# MariaDB reads a row by a unique index while it plans ("const table"); finding none, it reports
# this instead of a table row. The probe went through the index: no scan is left to run.
MARIADB_CONST_MISS = "Impossible WHERE noticed after reading const tables"


def table_accesses(sql, plan):
    """(table, how it is read) for each table the plan reads, in this database's own words."""
    if connection.vendor == "postgresql":
        return [
            (node["Relation Name"], f"{node['Node Type']} using {node.get('Index Name')}")
            for node in postgres_nodes(plan[0]["Plan"])
            if "Relation Name" in node
        ]
    if connection.vendor == "mysql":
        if [row["Extra"] for row in plan] == [MARIADB_CONST_MISS]:
            [table] = [table for table in TABLES if f"FROM `{table}`" in sql]
            return [(table, "type=const (probed its unique index while planning; no row)")]
        return [(row["table"], f"type={row['type']} key={row['key']}") for row in plan]
    return [
        (table, row["detail"])
        for row in plan
        for table in TABLES
        if row["detail"].split(" ")[1:2] == [table]
    ]


def reads_with_an_index(how):
    if connection.vendor == "postgresql":
        return how.startswith(("Index Scan", "Index Only Scan", "Bitmap Heap Scan"))
    if connection.vendor == "mysql":
        return not how.startswith("type=ALL") and not how.endswith("key=None")
    return how.startswith("SEARCH")


def show(login, sql, plan):
    print(f"\n-- {connection.vendor}: login {login!r}\n{sql}")
    if connection.vendor == "postgresql":
        print(json.dumps(plan, indent=2))
    else:
        for row in plan:
            print(row)


def test_caseless_login_reads_auth_user_through_indexes_only(many_users):
    queries = queries_of_a_login("MARIA")
    # The key lookup, then the exact-name lookup that lets a keyless exact owner win.
    assert len(queries) == 2
    for sql in queries:
        plan = explain(sql)
        show("MARIA", sql, plan)
        accesses = table_accesses(sql, plan)
        assert User._meta.db_table in {table for table, _how in accesses}
        for table, how in accesses:
            assert reads_with_an_index(how), f"{table} is read by {how}"
