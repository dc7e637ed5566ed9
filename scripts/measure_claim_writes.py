"""What a save costs with the claims against plain Django, on the database ``DATABASE_URL`` names.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/authfold_writes \\
        .venv/bin/python scripts/measure_claim_writes.py --users 20000 --rounds 7

Migrates that database, then, in interleaved rounds (ours, then plain Django: the receivers
disconnected; the API tokens' password check is off on both), times in autocommit with the
MD5 hasher: ``create_user``; a save that changes
neither name nor email; a change of case of one's own name. Prints each figure's median per
operation, ours / plain, and the statements each sends.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="users created per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models.signals import post_delete, post_init, post_save, pre_save
    from django.test.utils import CaptureQueriesContext

    from authfold.accounts import keys

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    User = get_user_model()
    receivers = [
        (post_init, keys.remember_loaded_identity, "authfold-loaded"),
        (pre_save, keys.claim_before_save, "authfold-key-pre"),
        (post_save, keys.finish_claims_after_save, "authfold-key-post"),
        (post_delete, keys.release_claims_of_deleted, "authfold-claims-del"),
    ]
    # The API tokens' check for a changed password is a feature of its own, off on both sides.
    for signal, uid in ((pre_save, "authfold-password-pre"), (post_save, "authfold-password-post")):
        signal.disconnect(sender=User, dispatch_uid=uid)

    def plain(on):
        for signal, receiver, uid in receivers:
            if on:
                signal.disconnect(sender=User, dispatch_uid=uid)
            else:
                signal.connect(receiver, sender=User, dispatch_uid=uid)

    def one_round(side, number):
        prefix = f"w{run}{side}{number}x"
        started = time.perf_counter()
        users = [
            User.objects.create_user(f"{prefix}{n}", f"{prefix}{n}@example.org", "pw")
            for n in range(arguments.users)
        ]
        created = time.perf_counter() - started
        loaded = list(User.objects.filter(pk__in=[user.pk for user in users]))
        started = time.perf_counter()
        for user in loaded:
            user.first_name = "Name"
            user.save()
        unchanged = time.perf_counter() - started
        started = time.perf_counter()
        for user in loaded:
            user.username = user.username.upper()
            user.save()
        recased = time.perf_counter() - started
        return [value / arguments.users for value in (created, unchanged, recased)]

    run = int(time.time())  # names new on every run of the script
    figures = {"ours": [], "plain": []}
    for number in range(arguments.rounds):
        for side in ("ours", "plain"):
            plain(side == "plain")
            figures[side].append(one_round(side, number))
            plain(False)

    def statements(function):
        connection.queries_log.clear()  # a full log (DEBUG's 9,000) would capture nothing
        with CaptureQueriesContext(connection) as captured:
            function()
        return len(captured.captured_queries)

    counts = {}
    for side in ("ours", "plain"):
        plain(side == "plain")
        name = f"c{run}{side}"
        user = User.objects.create_user(name, f"{name}@example.org", "pw")
        counts[side] = [
            statements(lambda n=name: User.objects.create_user(f"{n}b", f"{n}b@example.org", "pw"))
        ]
        user = User.objects.get(pk=user.pk)
        user.first_name = "Name"
        counts[side].append(statements(user.save))
        user.username = user.username.upper()
        counts[side].append(statements(user.save))
        plain(False)

    names = ("create_user", "save, nothing of ours changed", "case change of own name")
    print(f"{connection.vendor}, {arguments.users} users a round, {arguments.rounds} rounds")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    for index, name in enumerate(names):
        ours = statistics.median(r[index] for r in figures["ours"]) * 1000
        floor = statistics.median(r[index] for r in figures["plain"]) * 1000
        print(
            f"{name}: ours {ours:.3f} ms, plain {floor:.3f} ms, {ours / floor:.2f}x; "
            f"statements {counts['ours'][index]} vs {counts['plain'][index]}"
        )


if __name__ == "__main__":
    main()
