"""Hostile bodies sent to the demo site as it is deployed (gunicorn, the demo's settings), where
a body really arrives over a socket: JSON nested 50,000 deep is a 400 on every API endpoint, and
a 2 MB body is refused (413 on the API, Django's 400 on a web form) without being read."""

import re
import sys

import pytest
import requests

from tests.django_process import ROOT, child_environment, run_manage, scratch_database
from tests.gunicorn_server import gunicorn

# The server's workers write to a scratch database of their own, made beside the test database.
pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 50_000 + "]" * 50_000
TWO_MEGABYTES = 2 * 1024 * 1024
PASSWORD = "violet kettle orbit 42"
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, django_db_setup, django_db_blocker):
    """The base URL of the demo site under gunicorn (two workers), on a migrated scratch database."""
    folder = tmp_path_factory.mktemp("hostile")
    with django_db_blocker.unblock(), scratch_database(folder, "hostile") as (_name, url):
        for command in ("migrate", "createcachetable"):  # the throttles count in the database
            done = run_manage(folder, command, "-v", "0", DATABASE_URL=url)
            assert done.returncode == 0, done.stderr
        environment = {**child_environment(folder), "DATABASE_URL": url}
        with gunicorn([sys.executable], "mysite.wsgi", ROOT, environment, workers=2) as base:
            yield base


@pytest.fixture(scope="module")
def token(demo_server):
    """The API token of an account signed up through the server."""
    body = {"username": "hostile", "email": "hostile@example.com", "password": PASSWORD}
    answer = requests.post(f"{demo_server}/api/users/", json=body, timeout=60)
    assert answer.status_code == 201, answer.text
    # The demo prevents enumeration: a sign-up's answer carries no token, a login does.
    credentials = {"username": "hostile", "password": PASSWORD}
    answer = requests.post(f"{demo_server}/api/auth/token/", json=credentials, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def send(base, method, path, body, token=None, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Token {token}"
    return requests.request(method, f"{base}{path}", data=body, headers=headers, timeout=60)


@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [("POST", "/api/users/", False), ("POST", "/api/auth/token/", False)]
    + [("PATCH", "/api/users/me/", True)],
)
def test_json_nested_fifty_thousand_deep_is_a_400(demo_server, token, method, path, signed_in):
    answer = send(demo_server, method, path, DEEP_JSON, token if signed_in else None)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "JSON parse error - the body is nested too deeply."}


@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [("POST", "/api/users/", False), ("POST", "/api/auth/token/", False)]
    + [("PATCH", "/api/users/me/", True), ("GET", "/api/users/me/", True)]
    + [("POST", "/api/auth/logout/", True)],
)
def test_a_two_megabyte_api_body_is_a_413(demo_server, token, method, path, signed_in):
    body = '{"username": "' + "a" * TWO_MEGABYTES + '"}'
    answer = send(demo_server, method, path, body, token if signed_in else None)
    assert answer.status_code == 413
    assert answer.json() == {"detail": "The request body is too large."}


def test_a_two_megabyte_web_sign_up_is_a_400(demo_server):
    session = requests.Session()
    page = session.get(f"{demo_server}/accounts/signup/", timeout=30)
    csrf = CSRF_TOKEN.search(page.text)[1]
    form = {
        "csrfmiddlewaretoken": csrf,
        "username": "a" * TWO_MEGABYTES,
        "email": "big@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    answer = session.post(f"{demo_server}/accounts/signup/", data=form, timeout=60)
    assert answer.status_code == 400


def test_the_token_still_works_after_the_hostile_bodies(demo_server, token):
    """Nothing above broke the workers or the account: the refused logout deleted nothing."""
    answer = requests.get(
        f"{demo_server}/api/users/me/", headers={"Authorization": f"Token {token}"}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.json()["username"] == "hostile"
