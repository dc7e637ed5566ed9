"""The write figures: what authfold adds to a user's writes, against plain Django in the same run.

Plain Django is the same call with authfold's receivers (every ``pre_save``/``post_save``/
``post_delete`` receiver connected under an ``authfold-...`` dispatch uid) and its execute wrappers
taken off for that call only, outside the timed part: the same process, connection, table and
indexes, so the difference is what authfold's Python and statements cost. (A database-side rule,
such as PostgreSQL's expression index on the username, is paid by both.)
"""

import contextlib
import re
import statistics
import time
from itertools import count

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.test.utils import CaptureQueriesContext

from bench.loading import BENCH_PASSWORD, NAMES, random_case
from bench.timing import compare

User = get_user_model()
SIGNALS = (pre_save, post_save, post_delete)
# Django's savepoint names ("s140144495725440_x404").
SAVEPOINT_NAME = re.compile(r'"s\d+_x\d+"')
# Statements timed one by one, over this many calls of each contender, for the profile.
PROFILED_CALLS = 50


@contextlib.contextmanager
def plain_django(using="default"):
    """authfold's receivers and execute wrappers off for the block (put back after)."""
    connection = connections[using]
    connection.ensure_connection()
    saved = [(signal, signal.receivers) for signal in SIGNALS]
    wrappers = connection.execute_wrappers
    for signal, receivers in saved:
        signal.receivers = [entry for entry in receivers if not from_authfold(entry[0][0])]
        signal.sender_receivers_cache.clear()
    connection.execute_wrappers = [
        wrapper
        for wrapper in wrappers
        if not getattr(wrapper, "__module__", "").startswith("authfold.")
    ]
    try:
        yield
    finally:
        for signal, receivers in saved:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()
        connection.execute_wrappers = wrappers


def from_authfold(dispatch_uid):
    return isinstance(dispatch_uid, str) and dispatch_uid.startswith("authfold")


def writes(loaded, rng, repeat, using="default"):
    """Four writes, ours against plain Django, each interleaved on its own inputs: a sign-up's
    ``create_user`` in autocommit and in one transaction (as authfold's own sign-up paths save),
    a profile save that changes neither name nor email, and a case change of one's own username.
    Statements per call and a per-statement profile beside."""
    around = {"plain": lambda: plain_django(using)}
    numbers = count(3 * 10**8)

    def new_user(_round):
        given = {}
        for name in ("ours", "plain"):
            number = next(numbers)
            username = random_case(f"{NAMES[number % len(NAMES)]}{number}", rng)
            given[name] = (username, f"new.{number}@example.com")
        return given

    def create_user(pair):
        return User.objects.db_manager(using).create_user(pair[0], pair[1], BENCH_PASSWORD)

    def create_user_in_transaction(pair):
        with transaction.atomic(using=using):
            return create_user(pair)

    def existing_users(_round):
        picked = rng.sample(loaded.plain_ids, 2)
        return {
            name: User.objects.using(using).get(pk=pk)
            for name, pk in zip(("ours", "plain"), picked, strict=True)
        }

    def profile_save(user):
        user.first_name = f"Name{rng.randrange(10**6)}"
        user.save()
        return True

    def case_change(user):
        user.username = other_case(user.username)
        user.save()
        return True

    figures = {
        "create_user": (create_user, new_user),
        "create_user_in_transaction": (create_user_in_transaction, new_user),
        "profile_save": (profile_save, existing_users),
        "case_change": (case_change, existing_users),
    }
    return {
        figure: measure_write(call, inputs, repeat, rng, around, using)
        for figure, (call, inputs) in figures.items()
    }


def measure_write(call, inputs, repeat, rng, around, using):
    """One write, ours against plain Django: timings, then each one's statements and profile."""
    contenders = {"ours": call, "plain": call}
    timings = compare(contenders, inputs, repeat, rng, around=around)
    sample = inputs(0)
    for name in contenders:
        with around.get(name, contextlib.nullcontext)():
            timings[name]["statements"] = statements_of(lambda n=name: call(sample[n]), using)
            timings[name]["profile"] = statement_profile(
                call, lambda n=name: inputs(0)[n], PROFILED_CALLS, using
            )
    return {"timings": timings}


def other_case(username):
    """The same username in another case (``maria7`` → ``Maria7`` → ``MARIA7`` → ``maria7``)."""
    for candidate in (username.title(), username.upper(), username.lower()):
        if candidate != username:
            return candidate
    return username  # no letter to change (a name of digits only): still a save


def statements_of(call, using="default"):
    """The SQL ``call()`` sends, in order."""
    with CaptureQueriesContext(connections[using]) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def statement_profile(call, inputs, calls, using="default"):
    """Where one call's time goes: each statement's (and commit's) mean milliseconds, by its
    first words, and what is left for Python (Django, the receivers, the hasher)."""
    spent = {}
    totals = []

    def timed_statement(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            # Savepoints by statement, not by name (each has its own).
            label = SAVEPOINT_NAME.sub('"…"', " ".join(sql.split()[:6]))
            spent.setdefault(label, []).append(time.perf_counter() - started)

    connection = connections[using]
    commit = connection._commit

    def timed_commit():
        # A transaction's COMMIT is not sent through a cursor (in autocommit, a statement's own
        # commit is part of its time); on SQLite it is where the disk is synced.
        started = time.perf_counter()
        try:
            return commit()
        finally:
            spent.setdefault("COMMIT", []).append(time.perf_counter() - started)

    connection._commit = timed_commit
    try:
        for _ in range(calls):
            given = inputs()
            with connection.execute_wrapper(timed_statement):
                started = time.perf_counter()
                call(given)
                totals.append(time.perf_counter() - started)
    finally:
        del connection._commit
    statements = {
        label: {"per_call": len(times) / calls, "mean_ms": statistics.mean(times) * 1000}
        for label, times in spent.items()
    }
    database_ms = sum(times for values in spent.values() for times in values) * 1000 / calls
    total_ms = statistics.mean(totals) * 1000
    return {
        "total_ms": total_ms,
        "database_ms": database_ms,
        "python_ms": total_ms - database_ms,
        "statements": statements,
    }
