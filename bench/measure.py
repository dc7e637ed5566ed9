"""One database's run (a child process of ``python -m bench``): load, then every figure.

The order is the order an adopting project lives through: users load at migration 0001 (legacy
twins included), the audit finds the twins, the resolve migration (0002) removes them, the
enforcement migration (0003) builds the unique index while users keep signing up, and then the
everyday costs: logins and sign-ups.
"""

import argparse
import json
import os
import random
import sqlite3
import sys

import django

FIGURES = [
    "audit", "resolution", "enforcement", "lookalikes", "login", "signup", "writes", "registration",
]  # fmt: skip


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("--database", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--twin-groups", type=int, required=True)
    parser.add_argument("--repeat", type=int, required=True)
    parser.add_argument("--scanning-repeat", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--figures", nargs="+", default=FIGURES, choices=FIGURES)
    return parser.parse_args(argv)


def server_version(connection):
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        return " ".join(version.split()[:2])
    return f"MariaDB {version.split('-')[0]}" if "MariaDB" in version else f"MySQL {version}"


def migrate_to_legacy_state():
    """Every app migrated, ours only to 0001: keys exist, twins are still allowed."""
    from django.apps import apps
    from django.core.management import call_command

    call_command("migrate", "authfold", "0001", verbosity=0)
    for config in apps.get_app_configs():
        if config.label != "authfold" and config.models_module is not None:
            call_command("migrate", config.label, verbosity=0)


def step(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv=None):
    arguments = parse_arguments(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.core.management import CommandError, call_command
    from django.db import connection

    from bench import figures
    from bench.loading import analyze_tables, load_users
    from bench.timing import timed
    from bench.writes import writes

    rng = random.Random(arguments.seed)
    result = {
        "load_average_at_start": os.getloadavg(),
        "database": arguments.database,
        "vendor": connection.vendor,
        "server": server_version(connection),
        "users": arguments.users,
        "twin_groups": arguments.twin_groups,
        "figures": {},
        "not_measured": {},
    }
    step(f"{arguments.database}: migrating to the legacy state (authfold 0001)")
    migrate_to_legacy_state()
    step(f"{arguments.database}: loading {arguments.users:,} users")
    seconds, loaded = timed(lambda: load_users(arguments.users, arguments.twin_groups))
    analyze_seconds, _ = timed(analyze_tables)
    result["load"] = {"seconds": seconds, "analyze_seconds": analyze_seconds}

    wanted = set(arguments.figures)
    engine = figures.engine_available()
    if engine and "resolution" in wanted:
        step(f"{arguments.database}: resolution (migrate authfold 0002)")
        result["figures"]["resolution"] = figures.resolution()
    else:
        if not engine:
            result["not_measured"]["resolution"] = "conflict_audit is not installed"
        figures.remove_twins(loaded)
        figures.resolution()  # nothing left to resolve: the state enforcement needs
    analyze_tables()

    if "enforcement" in wanted:
        step(f"{arguments.database}: enforcement (migrate authfold 0003) under concurrent writes")
        try:
            result["figures"]["enforcement"] = figures.enforcement()
        except CommandError as error:
            result["not_measured"]["enforcement"] = f"migrate authfold 0003 refused: {error}"
    if "lookalikes" in wanted:
        step(f"{arguments.database}: look-alike skeletons (migrate authfold 0006)")
        result["figures"]["lookalikes"] = figures.lookalike_backfill()
    step(f"{arguments.database}: every migration")
    result["migrate_seconds"], _ = timed(lambda: call_command("migrate", verbosity=0))
    call_command("createcachetable", verbosity=0)  # the demo's throttles count in the database
    analyze_tables()

    # What users run: the audit on the fully migrated schema (skeleton column filled), after
    # resolution, so it finds no twins but reads every user and key as it always does.
    if engine and "audit" in wanted:
        step(f"{arguments.database}: audit (fully migrated)")
        result["figures"]["audit"] = figures.audit(os.environ["DATABASE_URL"])
    elif not engine:
        result["not_measured"]["audit"] = "conflict_audit was not there"

    if "login" in wanted:
        step(f"{arguments.database}: login lookup")
        result["figures"]["login"] = figures.login_lookup(
            loaded, rng, arguments.repeat, arguments.scanning_repeat
        )
    if "login" in wanted and connection.vendor == "postgresql":
        step(f"{arguments.database}: login lookup with server-side binding (prepared statements)")
        result["figures"]["login_prepared"] = figures.with_server_side_binding(
            lambda: figures.login_lookup(
                loaded, rng, arguments.repeat, arguments.scanning_repeat, explain=False
            )
        )
    if "signup" in wanted:
        step(f"{arguments.database}: sign-up validation")
        result["figures"]["signup"] = figures.signup_validation(
            rng, arguments.repeat, arguments.scanning_repeat
        )
    if "writes" in wanted:
        step(f"{arguments.database}: writes (create_user, profile save, case change)")
        result["figures"]["writes"] = writes(loaded, rng, max(50, arguments.repeat // 5))
    if "registration" not in wanted:
        pass
    elif figures.registration_available():
        step(f"{arguments.database}: registration API")
        result["figures"]["registration"] = figures.registration(rng, arguments.repeat // 5)
    else:
        result["not_measured"]["registration"] = "the registration API is not routed"
    result["load_average_at_end"] = os.getloadavg()
    with open(arguments.out, "w") as out:
        json.dump(result, out, indent=2)
    step(f"{arguments.database}: done")


if __name__ == "__main__":
    main()
