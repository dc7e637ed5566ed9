"""The benchmark figures, each measured side by side: ours, the floor, and the naive retrofit."""

import contextlib
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connections
from django.test.utils import CaptureQueriesContext

from authfold.accounts.models import CaselessKey
from authfold.accounts.validators import (
    validate_email_available,
    validate_username_available,
    validate_username_not_lookalike,
)
from authfold.backends import CaseInsensitiveModelBackend
from authfold.data_migrations.enforcement import username_digest_twins
from bench.loading import BENCH_PASSWORD, NAMES, random_case, username_for
from bench.naive import (
    IexactModelBackend,
    exact_email_available,
    exact_username_available,
    naive_email_available,
    naive_username_available,
)
from bench.plans import plans_of
from bench.timing import compare, timed

User = get_user_model()
REPO = Path(__file__).resolve().parent.parent

# The audit's floor: one statement over the same table. LOWER() appears here
# only as the thing we compare against; it is not our definition of "the same username".
AUDIT_FLOOR_SQL = (
    "SELECT LOWER(username), COUNT(*) FROM auth_user GROUP BY LOWER(username) HAVING COUNT(*) > 1"
)


def plan_report(plans):
    """Plans as JSON-ready dicts."""
    return [
        {"sql": plan.sql, "plan": list(plan.lines), "scans": sorted(plan.scanned_tables)}
        for plan in plans
    ]


@contextlib.contextmanager
def demo_throttles():
    """The throttle rates the demo ships (``mysite/settings.py``), so our backend counts failed
    logins per account as a deployed site does; the bench's own settings turn them off."""
    from django.test import override_settings

    from mysite import settings as demo

    rates = demo.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    with override_settings(REST_FRAMEWORK={**demo.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        yield {"rates": rates, "cache": demo.CACHES["default"]["BACKEND"]}


def login_lookup(loaded, rng, repeat, scanning_repeat, using="default", explain=True):
    """Figure 1: ``authenticate()`` of a random user typed in a random case, three backends;
    ours with the per-account failure throttle on, as shipped (``ModelBackend`` has none).

    ``explain=False`` skips the plans and the replay (under server-side binding the captured
    SQL keeps ``$1``).
    """
    with demo_throttles() as throttles:
        result = measure_logins(loaded, rng, repeat, scanning_repeat, using, explain)
    result["throttles"] = throttles
    return result


def measure_logins(loaded, rng, repeat, scanning_repeat, using, explain):
    """:func:`login_lookup`'s measurement, under whatever throttle settings are in force."""
    backends = {
        "ours": CaseInsensitiveModelBackend(),
        "exact": ModelBackend(),
        "naive": IexactModelBackend(),
    }

    def inputs(_round):
        username = username_for(rng.choice(loaded.plain_ids) - loaded.first_id)
        login = random_case(username, rng)
        return {"ours": login, "exact": username, "naive": login}

    def authenticates(backend):
        return lambda login: backend.authenticate(None, username=login, password=BENCH_PASSWORD)

    contenders = {name: authenticates(backend) for name, backend in backends.items()}
    timings = compare(
        contenders, inputs, repeat, rng, scanning={"naive"}, scanning_repeat=scanning_repeat
    )
    sample = inputs(0)
    plans = {
        name: plan_report(plans_of(lambda c=contenders[name], s=sample[name]: c(s), using))
        for name in contenders
        if explain
    }
    result = {"timings": timings, "plans": plans}
    if explain:
        # Replays the captured SQL, which keeps "$1" under server-side binding: not there.
        result["database_only"] = lookup_statements_only(
            contenders, inputs, repeat, rng, scanning_repeat, using
        )
    return result


def with_server_side_binding(measure, using="default"):
    """Run ``measure()`` on a PostgreSQL connection with server-side binding, where psycopg
    prepares a statement it has run five times, so PostgreSQL plans the join once, not per login."""
    connection = connections[using]
    options = connection.settings_dict.setdefault("OPTIONS", {})
    connection.close()
    options["server_side_binding"] = True
    try:
        return measure()
    finally:
        connection.close()
        del options["server_side_binding"]


def lookup_statements_only(contenders, inputs, repeat, rng, scanning_repeat, using="default"):
    """The statements each backend sent for the same login, replayed on a raw cursor: the
    database's share of figure 1, without the ORM building the queries or the hasher."""
    connection = connections[using]
    counts = {name: [] for name in contenders}
    stride = max(1, repeat // min(scanning_repeat, repeat))
    last_sent = {}

    def statements(round_number):
        given = inputs(round_number)
        for name, call in contenders.items():
            if name == "naive" and name in last_sent and round_number % stride:
                continue  # not timed this round, and capturing it would read the whole table
            with CaptureQueriesContext(connection) as captured:
                call(given[name])
            last_sent[name] = [query["sql"] for query in captured.captured_queries]
            counts[name].append(len(last_sent[name]))
        return dict(last_sent)

    def runs(sent):
        with connection.cursor() as cursor:
            for sql in sent:
                cursor.execute(sql)
                cursor.fetchall()
        return len(sent)

    timings = compare(
        dict.fromkeys(contenders, runs),
        statements,
        repeat,
        rng,
        scanning={"naive"},
        scanning_repeat=scanning_repeat,
    )
    for name, summary in timings.items():
        summary["statements_per_login"] = statistics.mean(counts[name])
    return timings


def available(check):
    """A validator that raises as a check that answers True when the value is free."""

    def call(value):
        try:
            check(value)
        except ValidationError:
            return False
        return True

    return call


def signup_validation(rng, repeat, scanning_repeat, using="default"):
    """Figure 2: the uniqueness checks of one registration (a new name and address), and the
    username check with the look-alike check after it."""

    def inputs(round_number):
        number = 10**8 + round_number + 1
        username = random_case(username_for(number), rng)
        email = random_case(f"new.{number}@example.com", rng)
        pair = (username, email)
        return {"ours": pair, "exact": pair, "naive": pair}

    ours_username, ours_email = (
        available(validate_username_available),
        available(validate_email_available),
    )
    username_only = {
        "ours": lambda pair: ours_username(pair[0]),
        "exact": lambda pair: exact_username_available(pair[0]),
        "naive": lambda pair: naive_username_available(pair[0]),
    }
    both = {
        "ours": lambda pair: ours_username(pair[0]) and ours_email(pair[1]),
        "exact": lambda pair: exact_username_available(pair[0]) and exact_email_available(pair[1]),
        "naive": lambda pair: naive_username_available(pair[0]) and naive_email_available(pair[1]),
    }
    # AUTHFOLD_REFUSE_LOOKALIKES is on in the demo settings the bench runs with.
    lookalike_free = available(validate_username_not_lookalike)
    with_lookalike = {
        "ours": lambda pair: ours_username(pair[0]) and lookalike_free(pair[0]),
        "username_only": lambda pair: ours_username(pair[0]),
        "exact": lambda pair: exact_username_available(pair[0]),
    }
    sample = inputs(0)
    return {
        "username_and_lookalike": {
            "timings": compare(
                with_lookalike,
                lambda round_number: {
                    **inputs(round_number),
                    "username_only": inputs(round_number)["ours"],
                },
                repeat,
                rng,
            ),
            "plans": {
                "ours": plan_report(plans_of(lambda: with_lookalike["ours"](sample["ours"]), using))
            },
        },
        "username": {
            "timings": compare(
                username_only,
                inputs,
                repeat,
                rng,
                scanning={"naive"},
                scanning_repeat=scanning_repeat,
            ),
            "plans": {
                name: plan_report(plans_of(lambda c=call: c(sample["ours"]), using))
                for name, call in username_only.items()
            },
        },
        # auth_user.email has no index in Django, so even the exact email check reads the table.
        "username_and_email": {
            "timings": compare(
                both,
                inputs,
                repeat,
                rng,
                scanning={"naive", "exact"},
                scanning_repeat=scanning_repeat,
            ),
            "plans": {
                name: plan_report(plans_of(lambda c=call: c(sample["ours"]), using))
                for name, call in both.items()
            },
        },
    }


def lookalike_backfill():
    """``migrate authfold 0006``: the skeleton digest column added and filled for every user."""
    call_command("migrate", "authfold", "0005", verbosity=0)
    seconds, _ = timed(lambda: call_command("migrate", "authfold", "0006", verbosity=0))
    filled = CaselessKey.objects.filter(skeleton_digest__isnull=False).count()
    return {"seconds": seconds, "filled": filled}


class Writer(threading.Thread):
    """Creates users one by one, as a live site does, recording each write's latency."""

    def __init__(self, pause=0.01):
        super().__init__(daemon=True)
        self.pause = pause
        self.stopping = threading.Event()
        self.writes = []  # (started, seconds, error)

    def run(self):
        number = 0
        try:
            while not self.stopping.is_set():
                number += 1
                name = f"bench-writer-{id(self)}-{number}"
                started = time.perf_counter()
                error = None
                try:
                    User.objects.create_user(name, f"{name}@example.com")
                except DatabaseError as refusal:
                    error = str(refusal)
                self.writes.append((started, time.perf_counter() - started, error))
                time.sleep(self.pause)
        finally:
            connections.close_all()


def with_concurrent_writes(operation):
    """Run ``operation()`` while a writer creates users; how long was any write held up?"""
    writer = Writer()
    writer.start()
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        seconds, _ = timed(operation)
        finished = started + seconds
        time.sleep(0.5)
    finally:
        writer.stopping.set()
        writer.join()
    during = [
        (begin, latency, error)
        for begin, latency, error in writer.writes
        if begin <= finished and begin + latency >= started
    ]
    latencies = [latency for _, latency, _ in during] or [0.0]
    return {
        "operation_s": seconds,
        "writes_during": len(during),
        "failed_writes": sum(1 for *_, error in during if error),
        "longest_write_s": max(latencies),
        "median_write_ms": statistics.median(latencies) * 1000,
    }


def enforcement(using="default"):
    """Figure 5: ``migrate authfold 0003`` while users sign up; on PostgreSQL, against a plain
    (blocking) ``CREATE UNIQUE INDEX`` on the same table."""
    connection = connections[using]
    results = {}
    if connection.vendor == "postgresql":
        table = CaselessKey._meta.db_table

        def blocking_build():
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE UNIQUE INDEX bench_blocking ON {table} (username_digest)")

        results["blocking_index"] = with_concurrent_writes(blocking_build)
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX bench_blocking")
    failures = []
    for _attempt in range(3):
        try:
            results["migration"] = with_concurrent_writes(
                lambda: call_command("migrate", "authfold", "0003", verbosity=0)
            )
            break
        except IntegrityError as error:
            # Found by this benchmark: the backfill in 0003 can race a sign-up's own key write.
            failures.append(str(error))
    results["failed_attempts"] = failures
    return results


def engine_available():
    """Whether the resolution engine is installed: its ``conflict_audit`` command is."""
    return "conflict_audit" in get_commands()


def audit(database_url, repeat=3, using="default"):
    """Figure 3: ``conflict_audit --format json`` against one GROUP BY statement; peak memory."""
    connection = connections[using]

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(AUDIT_FLOOR_SQL)
            return len(cursor.fetchall())

    def ours():
        output = io.StringIO()
        try:
            call_command("conflict_audit", "--format", "json", stdout=output)
        except (SystemExit, CommandError):
            pass  # a non-zero exit only says conflicts exist
        return len(output.getvalue())

    floor_times, our_times = [], []
    for _ in range(repeat):
        floor_times.append(timed(floor)[0])
        our_times.append(timed(ours)[0])
    return {
        "floor_s": statistics.median(floor_times),
        "ours_s": statistics.median(our_times),
        "repetitions": repeat,
        "peak_rss_mb": peak_memory_mb(["conflict_audit", "--format", "json"], database_url),
        "baseline_rss_mb": peak_memory_mb(["check"], database_url),
    }


def peak_memory_mb(command, database_url):
    """Peak resident memory of ``manage.py <command>`` in its own process, in MB."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
    }
    # A child forked from this (large) process starts with its resident set counted in its peak,
    # even after exec; so a small launcher process forks the measured one and reports its peak.
    launcher = (
        "import os, sys\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"
        "    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
        "_, status, usage = os.wait4(pid, 0)\n"
        "print(usage.ru_maxrss)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", launcher, str(REPO / "manage.py"), *command],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    return int(finished.stdout.split()[-1]) / 1024


def resolution(using="default"):
    """Figure 4: ``migrate authfold 0002`` (the resolution engine): time and statements sent."""
    statements = {"count": 0}

    def count(execute, sql, params, many, context):
        statements["count"] += 1
        return execute(sql, params, many, context)

    # The migration prints one line per resolved group; that goes to a buffer, not the log.
    with connections[using].execute_wrapper(count), contextlib.redirect_stdout(io.StringIO()):
        seconds, _ = timed(lambda: call_command("migrate", "authfold", "0002", verbosity=0))
    remaining = username_digest_twins(User, CaselessKey, using)
    return {"seconds": seconds, "statements": statements["count"], "twins_left": len(remaining)}


def remove_twins(loaded):
    """Without the engine, take the generated twins out so enforcement can be measured."""
    User.objects.filter(pk__in=list(loaded.twin_ids)).delete()


# The registration API's URL name.
REGISTRATION_URL_NAME = "authfold_api:users"


def registration_available():
    """Whether the registration API is here to measure."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(REGISTRATION_URL_NAME)
    except NoReverseMatch:
        return False
    return True


def registration(rng, repeat):
    """Figure 6: sequential ``POST`` registrations, ours against the seed-style serializer."""
    from django.urls import reverse
    from rest_framework.test import APIClient

    client = APIClient()
    urls = {"ours": reverse(REGISTRATION_URL_NAME), "seed": reverse("bench-seed-register")}
    counter = {"number": 2 * 10**8}

    def inputs(round_number):
        # The same kind of name for both (one of the loader's names), an ASCII address (Django's
        # EmailValidator refuses non-ASCII local parts), so every request creates an account.
        given = {}
        for name in urls:
            counter["number"] += 1
            username = f"{NAMES[round_number % len(NAMES)]}{counter['number']}"
            given[name] = {
                "username": username,
                "email": f"new.{counter['number']}@example.com",
                "password": "a sturdy passphrase 8",
            }
        return given

    def registers(url):
        return lambda body: client.post(url, body, format="json").status_code == 201

    timings = compare({name: registers(url) for name, url in urls.items()}, inputs, repeat, rng)
    for summary in timings.values():
        summary["requests_per_s"] = 1000 / summary["median_ms"]
    return {"timings": timings}
