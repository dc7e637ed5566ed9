"""A stolen API token no longer takes the account: replayed against the demo host as it is
deployed (gunicorn, three workers, its shipped settings, mandatory email verification), on the
database this suite runs on.

The attack: with the owner's token, move the account's email to the thief's mailbox, then ask
for a password reset there. Now the change needs the password the thief does not have, the email
stays the owner's, and a reset still reaches the owner alone.
"""

import re
import subprocess
import sys

import pytest
import requests

from tests.django_process import (
    ROOT,
    child_environment,
    mailing_into,
    mails_in,
    run_manage,
    scratch_database,
)
from tests.gunicorn_server import gunicorn

WORKERS = 3
PASSWORD = "a-long-pass-phrase"
OWNER, THIEF = "owner@example.com", "thief@evil.example"
# The second takeover: a thief who knows the password asks for a change to his own address.
REUSED, ACCOMPLICE = "reused@example.com", "accomplice@evil.example"
NEW_PASSWORD = "the owner's brand new pass phrase"
RESET_LINK = re.compile(r"(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
CONFIRM_KEY = re.compile(r"/accounts/email/confirm/([^/\s]+)/")
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

pytestmark = pytest.mark.django_db


def settings_text(mail_folder):
    """The demo's settings, mailing into files and counting throttles per worker (no cache
    table needed; this test sends a handful of requests)."""
    return (
        mailing_into(mail_folder)
        + 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory, django_db_setup, django_db_blocker):
    """The demo host served by gunicorn on a scratch database holding one account (the owner's,
    from before verification: confirmed); yields its base URL and its mail folder."""
    folder = tmp_path_factory.mktemp("takeover")
    mail_folder = folder / "mail"
    text = settings_text(mail_folder)
    with django_db_blocker.unblock(), scratch_database(folder, "takeover") as (_name, url):
        env = child_environment(folder, text)
        env["DATABASE_URL"] = url
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        created = run_manage(
            folder,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user('owner', {OWNER!r}, {PASSWORD!r}); "
            f"User.objects.create_user('reused', {REUSED!r}, {PASSWORD!r})",
            settings_text=text,
            DATABASE_URL=url,
        )
        assert created.returncode == 0, created.stderr
        with gunicorn([sys.executable], "mysite.wsgi", ROOT, env, WORKERS) as base:
            yield base, mail_folder


def mails(folder):
    """Every mail the host wrote, as text."""
    return "\n".join(mails_in(folder))


def stolen_token(base, username="owner", password=PASSWORD):
    answer = requests.post(
        f"{base}/api/auth/token/", json={"username": username, "password": password}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Token {answer.json()['token']}"}


def ask_for_reset(base, email):
    session = requests.Session()
    page = session.get(f"{base}/accounts/password/reset/", timeout=60)
    answer = session.post(
        f"{base}/accounts/password/reset/",
        data={"email": email, "csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1]},
        headers={"Referer": f"{base}/accounts/password/reset/"},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302, answer.text


def test_a_stolen_token_cannot_move_the_email_and_the_reset_still_mails_the_owner(demo):
    base, mail_folder = demo
    token = stolen_token(base)

    without_password = requests.patch(
        f"{base}/api/users/me/", json={"email": THIEF}, headers=token, timeout=60
    )
    guessed_password = requests.patch(
        f"{base}/api/users/me/",
        json={"email": THIEF, "current_password": "password123"},
        headers=token,
        timeout=60,
    )
    account = requests.get(f"{base}/api/users/me/", headers=token, timeout=60).json()
    ask_for_reset(base, THIEF)
    ask_for_reset(base, OWNER)

    assert without_password.status_code == 400
    assert without_password.json()["current_password"]
    assert guessed_password.status_code == 400
    assert guessed_password.json()["current_password"]
    assert (account["email"], account["pending_email"]) == (OWNER, None)
    sent = mails(mail_folder)
    assert f"To: {OWNER}" in sent
    assert "/accounts/password/reset/" in sent
    assert THIEF not in sent


def mail_to(folder, address):
    """The one mail the host wrote to ``address``."""
    [mail] = [mail for mail in mails_in(folder) if f"To: {address}" in mail]
    return mail


def reset_password(base, link, password):
    """Follow a reset link and set ``password``, as the owner's browser would."""
    session = requests.Session()
    form = session.get(f"{base}{link}", timeout=60)
    answer = session.post(
        form.url,
        data={
            "new_password1": password,
            "new_password2": password,
            "csrfmiddlewaretoken": CSRF_TOKEN.search(form.text)[1],
        },
        headers={"Referer": form.url},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302, answer.text


def test_a_pending_change_asked_with_a_known_password_dies_with_the_owners_reset(demo):
    base, mail_folder = demo
    thief = stolen_token(base, "reused")
    asked = requests.patch(
        f"{base}/api/users/me/",
        json={"email": ACCOMPLICE, "current_password": PASSWORD},
        headers=thief,
        timeout=60,
    )
    assert asked.status_code == 200, asked.text
    key = CONFIRM_KEY.search(mail_to(mail_folder, ACCOMPLICE))[1]

    ask_for_reset(base, REUSED)
    reset_password(base, RESET_LINK.search(mail_to(mail_folder, REUSED))[1], NEW_PASSWORD)
    confirmed = requests.post(f"{base}/api/auth/email/confirm/", json={"key": key}, timeout=60)

    assert confirmed.status_code == 400, confirmed.text
    assert confirmed.json()["key"]
    assert requests.get(f"{base}/api/users/me/", headers=thief, timeout=60).status_code == 401
    owner = stolen_token(base, "reused", NEW_PASSWORD)
    account = requests.get(f"{base}/api/users/me/", headers=owner, timeout=60).json()
    assert (account["email"], account["pending_email"]) == (REUSED, None)
