"""The demo tells the truth: its database is built as ``make demo`` builds it (the legacy users,
then ``migrate``), served as ``make demo`` serves it, and every login its banner and home page
suggest (``mysite/demo.py``) lands in the account they name, on the login page, the admin and
the API; the sign-ups they say are refused are refused."""

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from mysite.demo import DEMO_PASSWORD, REFUSED_SIGNUPS, curl_body, logins_on
from tests.gunicorn_server import free_port, wait_until_serving

pytestmark = pytest.mark.browser

CHECKOUT = Path(__file__).resolve().parent.parent.parent


def run_in_checkout(*args, env):
    finished = subprocess.run(
        [sys.executable, *args], cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=600
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo, as ``scripts/demo`` builds and serves it, on a database file of its own."""
    folder = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own: mysite.settings
    run_in_checkout("scripts/legacy_demo_db.py", env=env)
    run_in_checkout("manage.py", "migrate", "--verbosity", "0", env=env)
    run_in_checkout("manage.py", "createcachetable", env=env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=CHECKOUT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def tab(chromium, demo_site):
    """A fresh browser tab (no cookies) on the demo."""
    context = chromium.new_context(base_url=demo_site)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def typed_on(door):
    """``(typed, lands_in)`` for every name the demo suggests typing on ``door``."""
    return [(typed, login.lands_in) for login in logins_on(door) for typed in login.typed]


def is_an_old_username(typed, lands_in):
    """Whether ``typed`` is not a spelling of the account's name (nor an email): the renamed
    account's old username, which the next page should explain."""
    fold = unicodedata.normalize("NFKC", typed).casefold()
    return "@" not in typed and fold != lands_in.casefold()


@pytest.mark.parametrize(("typed", "lands_in"), typed_on("web"))
def test_every_login_the_demo_suggests_lands_in_the_account_it_names(tab, typed, lands_in):
    tab.goto("/accounts/login/")
    tab.locator("#id_username").fill(typed)
    tab.locator("#id_password").fill(DEMO_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_test_id("current-username")).to_have_text(lands_in)
    if is_an_old_username(typed, lands_in):
        expect(tab.get_by_role("status")).to_contain_text(
            f"“{typed}” is no longer your username: it is now “{lands_in}”."
        )
    else:
        expect(tab.get_by_role("status")).to_have_count(0)


@pytest.mark.parametrize(("typed", "lands_in"), typed_on("admin"))
def test_every_admin_login_the_demo_suggests_lands_in_the_account_it_names(tab, typed, lands_in):
    tab.goto("/admin/login/?next=/admin/")
    tab.locator("#id_username").fill(typed)
    tab.locator("#id_password").fill(DEMO_PASSWORD)
    tab.locator("input[type=submit]").click()
    expect(tab.locator("#user-tools strong")).to_have_text(lands_in)


@pytest.mark.parametrize("login", logins_on("api"), ids=lambda login: login.typed[0])
def test_the_api_login_the_demo_suggests_answers_the_account_it_names(demo_site, login):
    # The body the banner's curl sends, as curl sends it.
    answer = requests.post(
        f"{demo_site}/api/auth/token/",
        data=curl_body(login).encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == login.lands_in
    assert answer.json()["token"]


@pytest.mark.parametrize("username", REFUSED_SIGNUPS)
def test_every_sign_up_the_demo_says_is_refused_is_refused(tab, username):
    tab.goto("/accounts/signup/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Email address").fill(f"new.{username.lower()}@example.org")
    tab.locator("#id_password1").fill("violet kettle orbit 42")
    tab.locator("#id_password2").fill("violet kettle orbit 42")
    tab.get_by_role("button", name="Create account").click()
    expect(tab.locator("#id_username_error")).to_contain_text("This username is taken")
