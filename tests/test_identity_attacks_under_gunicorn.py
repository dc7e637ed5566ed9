"""The attacks on the email as a login identity, replayed against the demo as it is deployed
(gunicorn, three workers, the demo's settings, a migrated database of its own): a second account
for the mailbox of a ``faß.de`` address by its A-label, a new ``faß.de`` address (which Django's
mailer would send to ``fass.de``), and a token that outlives a password set with ``update()``."""

import sys

import pytest
import requests

from authfold.accounts.validators import EMAIL_DOMAIN_AMBIGUOUS, EMAIL_TAKEN
from tests.django_process import ROOT, child_environment, run_manage, scratch_database
from tests.gunicorn_server import gunicorn

pytestmark = pytest.mark.django_db

PASSWORD = "violet kettle orbit 42"

# Run in the server's database, as code or an operator would: around Model.save().
LEGACY_DEVIATION_ACCOUNT = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("hans", "hans@faß.de", "x")
"""
SET_PASSWORD_BY_UPDATE = """
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
get_user_model().objects.filter(username="tokenholder").update(password=make_password("new one"))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory, django_db_setup, django_db_blocker):
    """Runs ``manage.py shell -c`` on the server's database, and holds the server's base URL."""
    folder = tmp_path_factory.mktemp("identity")
    # These attacks are on the key, so a taken address must be told: enumeration prevention
    # (tests/test_enumeration.py) would answer a refused sign-up as a made one.
    text = "AUTHFOLD_PREVENT_ENUMERATION = False\n"
    with django_db_blocker.unblock(), scratch_database(folder, "identity") as (_name, url):
        for command in ("migrate", "createcachetable"):
            done = run_manage(folder, command, "-v", "0", settings_text=text, DATABASE_URL=url)
            assert done.returncode == 0, done.stderr

        def shell(code):
            done = run_manage(folder, "shell", "-c", code, settings_text=text, DATABASE_URL=url)
            assert done.returncode == 0, done.stderr

        environment = {**child_environment(folder, text), "DATABASE_URL": url}
        with gunicorn([sys.executable], "mysite.wsgi", ROOT, environment, workers=3) as base:
            yield base, shell


def sign_up(base, username, email):
    body = {"username": username, "email": email, "password": PASSWORD}
    return requests.post(f"{base}/api/users/", json=body, timeout=60)


def test_the_a_label_of_a_stored_deviation_address_is_refused_as_taken(demo):
    base, shell = demo
    shell(LEGACY_DEVIATION_ACCOUNT)
    answer = sign_up(base, "twin", "hans@xn--fa-hia.de")
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"email": [str(EMAIL_TAKEN)]}


def test_a_new_deviation_address_is_refused_with_the_a_label_to_use(demo):
    base, _shell = demo
    answer = sign_up(base, "nikos", "nikos@faß.de")
    assert answer.status_code == 400, answer.text
    message = str(EMAIL_DOMAIN_AMBIGUOUS) % {"domain": "faß.de", "ascii_domain": "xn--fa-hia.de"}
    assert answer.json() == {"email": [message]}


def test_a_token_dies_when_its_password_is_set_by_update(demo):
    base, shell = demo
    answer = sign_up(base, "tokenholder", "tokenholder@example.com")
    assert answer.status_code == 201, answer.text
    headers = {"Authorization": f"Token {answer.json()['token']}"}
    assert requests.get(f"{base}/api/users/me/", headers=headers, timeout=60).status_code == 200
    shell(SET_PASSWORD_BY_UPDATE)
    for _worker in range(3):  # whichever worker answers
        after = requests.get(f"{base}/api/users/me/", headers=headers, timeout=60)
        assert after.status_code == 401, after.text
