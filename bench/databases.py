"""The benchmark's own databases: ``authfold_bench*`` on the servers, an SQLite file in results/."""

import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_DB_NAME = os.environ.get("AUTHFOLD_BENCH_DB_NAME", "authfold_bench_run")
POSTGRES_SERVER = os.environ.get("AUTHFOLD_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
MARIADB_SERVER = os.environ.get("AUTHFOLD_BENCH_MARIADB", "mysql://root@127.0.0.1:3306")
DATABASES = ("sqlite", "postgres", "mariadb")


def database_url(database):
    """The ``DATABASE_URL`` of the benchmark database on ``database`` (sqlite/postgres/mariadb)."""
    if database == "sqlite":
        return f"sqlite:///{RESULTS / (BENCH_DB_NAME + '.sqlite3')}"
    if database == "postgres":
        return f"{POSTGRES_SERVER}/{BENCH_DB_NAME}"
    return f"{MARIADB_SERVER}/{BENCH_DB_NAME}"


def recreate_database(database):
    """An empty benchmark database (dropped first if a previous run left one)."""
    drop_database(database)
    if database == "postgres":
        postgres_admin(f'CREATE DATABASE "{BENCH_DB_NAME}"')
    elif database == "mariadb":
        # A legacy table can only hold case-variant twins under a binary collation.
        mariadb_admin(
            f"CREATE DATABASE `{BENCH_DB_NAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )


def drop_database(database):
    """Remove the benchmark database (the runs are large: a million users)."""
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(database_url("sqlite").removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    elif database == "postgres":
        postgres_admin(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')
    else:
        mariadb_admin(f"DROP DATABASE IF EXISTS `{BENCH_DB_NAME}`")


def postgres_admin(statement):
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def mariadb_admin(statement):
    from urllib.parse import urlsplit

    import MySQLdb

    server = urlsplit(MARIADB_SERVER)
    connection = MySQLdb.connect(
        host=server.hostname, port=server.port or 3306, user=server.username or "root",
        passwd=server.password or "",
    )  # fmt: skip
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()
