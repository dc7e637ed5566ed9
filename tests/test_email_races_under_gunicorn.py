"""Saves that race cannot undo each other: a confirmation link followed while the same account
saves its profile (through the API or the web page) or asks for another address, replayed against
the demo as it is deployed (gunicorn, three workers, mandatory verification, a migrated database
of its own), round after round.

The attack this answers: sign up with someone else's address V (unconfirmed), ask to change to
your own address A, then send A's confirmation together with any profile save. A save that wrote
back the whole row as loaded put V back as the email, counted confirmed, while the claim stayed
on A. Each round here checks the account as stored afterwards; ``conflict_audit --check`` at the
end checks that every stored address is claimed by its holder and nothing else is.
"""

import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from authfold.accounts.throttling import FALLBACK_RATES
from tests.django_process import (
    ROOT,
    child_environment,
    mailing_into,
    mails_in,
    run_manage,
    scratch_database,
)
from tests.gunicorn_server import gunicorn

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROUNDS = 50
WORKERS = 3
PASSWORD = "violet kettle orbit 42"
SQUATTED = "victim@example.com"
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r"/accounts/email/confirm/([^/\s]+)/")


def settings_text(mail_folder):
    """The demo's settings, mailing into files, with throttles no round reaches (each worker
    counts alone: no cache table needed)."""
    return (
        mailing_into(mail_folder)
        + 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
        f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys({sorted(FALLBACK_RATES)!r},'
        ' "100000/hour")\n'
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory, django_db_setup, django_db_blocker):
    """The demo served by gunicorn on a scratch database; yields its base URL, its mail folder
    and a function that runs ``manage.py`` on that database."""
    folder = tmp_path_factory.mktemp("email-races")
    mail_folder = folder / "mail"
    text = settings_text(mail_folder)
    with django_db_blocker.unblock(), scratch_database(folder, "email_races") as (_name, url):

        def manage(*args):
            return run_manage(folder, *args, settings_text=text, DATABASE_URL=url)

        migrated = manage("migrate", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr
        env = {**child_environment(folder, text), "DATABASE_URL": url}
        with gunicorn([sys.executable], "mysite.wsgi", ROOT, env, WORKERS) as base:
            yield base, mail_folder, manage


class Account:
    """One account on the demo, signed in through the API (a token) and the web (a session)."""

    def __init__(self, base, mail_folder, username):
        self.base, self.mail_folder = base, mail_folder
        body = {"username": username, "email": SQUATTED, "password": PASSWORD}
        answer = requests.post(f"{base}/api/users/", json=body, timeout=60)
        assert answer.status_code == 201, answer.text
        # Under the demo's enumeration prevention a sign-up's answer carries no token: log in.
        credentials = {"username": username, "password": PASSWORD}
        answer = requests.post(f"{base}/api/auth/token/", json=credentials, timeout=60)
        assert answer.status_code == 200, answer.text
        self.token = {"Authorization": f"Token {answer.json()['token']}"}
        self.session = requests.Session()
        page = self.session.get(f"{base}/accounts/login/", timeout=60)
        logged_in = self.session.post(
            f"{base}/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=60,
        )
        assert logged_in.status_code == 302, logged_in.text

    def patch(self, body):
        return requests.patch(
            f"{self.base}/api/users/me/", json=body, headers=self.token, timeout=60
        )

    def me(self):
        answer = requests.get(f"{self.base}/api/users/me/", headers=self.token, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ask_for(self, address):
        """Ask to change the email to ``address``; returns the key mailed there."""
        answer = self.patch({"email": address, "current_password": PASSWORD})
        assert answer.status_code == 200, answer.text
        assert answer.json()["pending_email"] == address
        return mailed_key(self.mail_folder, address)

    def confirm(self, key):
        return requests.post(f"{self.base}/api/auth/email/confirm/", json={"key": key}, timeout=60)

    def save_profile_page(self, **fields):
        """Post the profile page as a browser would: every field as the page showed it, with
        ``fields`` edited."""
        page = self.session.get(f"{self.base}/accounts/profile/", timeout=60)
        shown = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page.text))
        data = {**shown, **fields, "csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1]}
        return page, data

    def post_profile_page(self, data):
        return self.session.post(
            f"{self.base}/accounts/profile/",
            data=data,
            headers={"Referer": f"{self.base}/accounts/profile/"},
            allow_redirects=False,
            timeout=60,
        )


def mailed_key(mail_folder, address):
    """The key in the newest confirmation mail sent to ``address``."""
    for mail in reversed(mails_in(Path(mail_folder))):
        if f"To: {address}" in mail and (found := KEY.search(mail)):
            return found[1]
    raise AssertionError(f"no confirmation mail to {address}")


def together(*calls):
    """Run the calls (``(function, argument)`` pairs) at the same moment, each in a thread of
    its own; their answers, in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        function, argument = call
        start.wait()
        return function(argument)

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(run, call) for call in calls]]


def audit_is_clean(manage):
    done = manage("conflict_audit", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_confirmation_raced_by_an_api_profile_save_stands(demo):
    base, mail_folder, manage = demo
    account = Account(base, mail_folder, "racer-api")
    for round_ in range(ROUNDS):
        address = f"api-{round_}@attacker.example"
        key = account.ask_for(address)
        confirmed, saved = together(
            (account.confirm, key),
            (account.patch, {"first_name": f"round {round_}"}),
        )
        assert (confirmed.status_code, saved.status_code) == (200, 200), (
            round_,
            confirmed.text,
            saved.text,
        )
        stored = account.me()
        assert (stored["email"], stored["pending_email"]) == (address, None), round_
    audit_is_clean(manage)


def test_a_confirmation_raced_by_a_profile_page_save_stands(demo):
    base, mail_folder, manage = demo
    account = Account(base, mail_folder, "racer-web")
    for round_ in range(ROUNDS):
        address = f"web-{round_}@attacker.example"
        key = account.ask_for(address)
        _page, data = account.save_profile_page(first_name=f"round {round_}")
        confirmed, saved = together((account.confirm, key), (account.post_profile_page, data))
        # A page older than the confirmation that reaches the view after it shows the old address
        # as a new one, which needs the current password: refused (200, the page with its error).
        assert confirmed.status_code == 200, confirmed.text
        assert saved.status_code in (200, 302), saved.text
        stored = account.me()
        assert (stored["email"], stored["pending_email"]) == (address, None), round_
    audit_is_clean(manage)


def test_a_confirmation_raced_by_another_change_leaves_one_outcome(demo):
    """Whichever runs first, the other sees it: the confirmed address is the email and the new
    request waits, or the new request replaced the pending one and its key confirms nothing."""
    base, mail_folder, manage = demo
    account = Account(base, mail_folder, "racer-change")
    for round_ in range(ROUNDS):
        before = account.me()["email"]
        first, second = f"first-{round_}@attacker.example", f"second-{round_}@attacker.example"
        key = account.ask_for(first)
        confirmed, changed = together(
            (account.confirm, key),
            (account.patch, {"email": second, "current_password": PASSWORD}),
        )
        assert changed.status_code == 200, changed.text
        assert confirmed.status_code in (200, 400), confirmed.text
        stored = account.me()
        email = first if confirmed.status_code == 200 else before
        assert (stored["email"], stored["pending_email"]) == (email, second), round_
    audit_is_clean(manage)


def test_a_confirmation_raced_by_a_sign_up_with_its_address_leaves_one_holder(demo):
    """Either the confirmation or the sign-up gets the address, never both: the sign-up is
    answered alike either way (enumeration prevention), so who holds it is read back by logging
    in as the newcomer."""
    base, mail_folder, manage = demo
    account = Account(base, mail_folder, "racer-sign-up")

    def sign_up(body):
        return requests.post(f"{base}/api/users/", json=body, timeout=60)

    for round_ in range(ROUNDS):
        address = f"contested-{round_}@attacker.example"
        key = account.ask_for(address)
        newcomer = {"username": f"newcomer-{round_}", "email": address, "password": PASSWORD}
        confirmed, signed_up = together(
            (account.confirm, key),
            (sign_up, newcomer),
        )
        assert signed_up.status_code == 201, signed_up.text
        assert confirmed.status_code in (200, 400), confirmed.text
        credentials = {"username": newcomer["username"], "password": PASSWORD}
        login = requests.post(f"{base}/api/auth/token/", json=credentials, timeout=60)
        newcomer_holds_it = login.status_code == 200
        assert (confirmed.status_code == 200) != newcomer_holds_it, round_
        email = account.me()["email"]
        assert (email == address) == (confirmed.status_code == 200), round_
    audit_is_clean(manage)
