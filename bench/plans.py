"""The query plans of what our code actually sends, and whether any of them reads a whole table.

Used by the benchmarks (to print the plans) and by ``tests/test_bench_plans.py`` (the CI check
that the login lookup and the sign-up checks never scan ``auth_user``): the plan, not the time.
"""

import re
from dataclasses import dataclass

from django.db import connections
from django.test.utils import CaptureQueriesContext

from authfold.accounts.postgres_login import FUNCTION, explain_kept_plan

# PostgreSQL's login function, called with its arguments' SQL text: its own plan is inside.
LOGIN_FUNCTION_CALL = re.compile(rf"FROM {FUNCTION}\((.*)\) l$")


@dataclass(frozen=True)
class Plan:
    """One statement and the database's plan for it: the plan's lines and the tables it scans."""

    sql: str
    lines: tuple
    scanned_tables: frozenset


def issued_statements(call, using="default"):
    """The SQL statements ``call()`` sends in steady state, with their parameters filled in.

    ``call()`` runs once first, unrecorded, so one-time work (the check that the key table
    exists, remembered per database) is not mistaken for the per-login cost.
    """
    call()
    with CaptureQueriesContext(connections[using]) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def plans_of(call, using="default"):
    """The :class:`Plan` of every statement ``call()`` sends."""
    return [explain(sql, using) for sql in issued_statements(call, using)]


def explain(sql, using="default"):
    """The database's plan for one statement (never runs it)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            details = [row[-1] for row in cursor.fetchall()]
            return Plan(sql, tuple(details), sqlite_scans(details))
        cursor.execute("EXPLAIN " + sql)
        if connection.vendor == "postgresql":
            lines = [row[0] for row in cursor.fetchall()]
            called = LOGIN_FUNCTION_CALL.search(sql)
            if called:
                lines += [f"{FUNCTION}, the plan it keeps:"] + [
                    f"  {line}" for line in explain_kept_plan(cursor, called[1])
                ]
            return Plan(sql, tuple(lines), postgresql_scans(lines))
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        lines = tuple(
            " ".join(f"{column}={row[column]}" for column in columns if row[column] is not None)
            for row in rows
        )
        return Plan(sql, lines, mysql_scans(rows))


def sqlite_scans(details):
    # "SCAN auth_user" (3.36+) or "SCAN TABLE auth_user", also "... USING INDEX x": a full read.
    # A "SEARCH" uses an index to find rows; a "SCAN" of a subquery/constant row reads no table.
    found = set()
    for detail in details:
        match = re.match(r"SCAN (?:TABLE )?(\w+)", detail)
        if match and match.group(1) not in {"CONSTANT", "SUBQUERY"}:
            found.add(match.group(1))
    return frozenset(found)


def postgresql_scans(lines):
    # "Seq Scan on auth_user" and "Parallel Seq Scan on auth_user" read the whole table.
    return frozenset(re.findall(r"Seq Scan on (\w+)", "\n".join(lines)))


def mysql_scans(rows):
    # Access type ALL is a full table scan, "index" a full index scan; both read every row. A
    # "<union1,2>" or "<derived2>" row reads the temporary result of the parts above it, no table.
    return frozenset(
        row["table"]
        for row in rows
        if row.get("type") in {"ALL", "index"} and not str(row["table"]).startswith("<")
    )
