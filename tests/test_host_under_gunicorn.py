"""The host project served as it is deployed, by gunicorn with several worker processes, on the
database this suite runs on: what holds only when requests really run at the same moment in
separate processes, through the host's own code (its ``ModelSerializer``, its ``ModelForm`` view)
and django-axes."""

import collections
import re
import threading

import pytest
import requests

from tests.django_process import scratch_database
from tests.gunicorn_server import gunicorn
from tests.test_host_adoption import HOST_DIR, PYTHON, host_environment, run_in_host

WORKERS = 3
PASSWORD = "a-long-pass-phrase"
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# These tests need the test database set up (the scratch database is made beside it), not a
# transaction of their own: the server's workers write to the scratch database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def host_server(tmp_path_factory, django_db_setup, django_db_blocker):
    """The base URL of the host, migrated into a scratch database and served by gunicorn."""
    with (
        django_db_blocker.unblock(),
        scratch_database(tmp_path_factory.mktemp("live"), "live") as (_name, url),
    ):
        migrated = run_in_host("manage.py", "migrate", "-v", "0", database_url=url)
        assert migrated.returncode == 0, migrated.stderr
        with gunicorn(PYTHON, "hostsite.wsgi", HOST_DIR, host_environment(url), WORKERS) as base:
            yield base


def all_at_once(calls):
    """Run every call in its own thread, released together; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index):
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def sign_up(base, username, email):
    body = {"username": username, "email": email, "password": PASSWORD}
    return requests.post(f"{base}/api/v1/users/", json=body, timeout=60)


def logged_in(base, username, password=PASSWORD):
    """A session logged in through the host's own login page, and the page's answer."""
    session = requests.Session()
    token = CSRF_TOKEN.search(session.get(f"{base}/accounts/login/", timeout=30).text)[1]
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    answer = session.post(f"{base}/accounts/login/", data=form, allow_redirects=False, timeout=60)
    return session, answer


def test_simultaneous_sign_ups_of_one_name_through_the_hosts_serializer_make_one(host_server):
    variants = ["swift", "SWIFT", "Swift", "sWIFT", "swIFT", "SwIfT", "ｓｗｉｆｔ", "ＳＷＩＦＴ"]
    answers = all_at_once(
        [
            lambda name=name, n=n: sign_up(host_server, name, f"swift{n}@example.com")
            for n, name in enumerate(variants)
        ]
    )

    assert collections.Counter(answer.status_code for answer in answers) == {201: 1, 400: 7}
    assert {tuple(answer.json()) for answer in answers if answer.status_code == 400} == {
        ("username",)
    }


def test_simultaneous_sign_ups_with_one_email_in_many_cases_make_one_account(host_server):
    """With default settings: the database's email claim decides, across workers."""
    emails = ["flock@example.com", "FLOCK@example.com", "Flock@Example.com", "fLOCK@EXAMPLE.COM"]
    emails += ["flOCK@example.com", "FlOcK@example.com", "FLOCK@Example.COM", "flock@EXAMPLE.com"]
    answers = all_at_once(
        [
            lambda email=email, n=n: sign_up(host_server, f"flock{n}", email)
            for n, email in enumerate(emails)
        ]
    )

    assert collections.Counter(answer.status_code for answer in answers) == {201: 1, 400: 7}
    assert {tuple(answer.json()) for answer in answers if answer.status_code == 400} == {("email",)}


def test_a_sign_up_named_as_an_address_raced_by_one_with_that_address_leaves_one(host_server):
    """The username of one account may not be another's email: the claims decide, across workers."""
    for n in range(72):
        address = f"crossed{n}@example.com"
        named, owner = all_at_once(
            [
                lambda a=address, n=n: sign_up(host_server, a.upper(), f"named{n}@example.com"),
                lambda a=address, n=n: sign_up(host_server, f"owner{n}", a),
            ]
        )
        statuses = sorted([named.status_code, owner.status_code])
        assert statuses == [201, 400], (named.text, owner.text)
        loser, field = (named, "username") if named.status_code == 400 else (owner, "email")
        assert tuple(loser.json()) == (field,), loser.text


def test_simultaneous_renames_through_the_hosts_form_leave_one_owner_and_no_500(host_server):
    people = [f"person{n}" for n in range(6)]
    for name in people:
        assert sign_up(host_server, name, f"{name}@example.com").status_code == 201
    sessions = [logged_in(host_server, name)[0] for name in people]
    tokens = [
        CSRF_TOKEN.search(s.get(f"{host_server}/accounts/settings/").text)[1] for s in sessions
    ]
    spellings = ["target", "TARGET", "Target", "tARGET", "ｔａｒｇｅｔ", "TaRgEt"]

    answers = all_at_once(
        [
            lambda s=s, t=t, name=name, new=new: s.post(
                f"{host_server}/accounts/settings/",
                data={"username": new, "email": f"{name}@example.com", "csrfmiddlewaretoken": t},
                allow_redirects=False,
                timeout=60,
            )
            for s, t, name, new in zip(sessions, tokens, people, spellings, strict=True)
        ]
    )

    codes = collections.Counter(answer.status_code for answer in answers)
    assert codes[302] == 1, codes
    assert set(codes) <= {302, 200, 409}, codes  # a form error, or the 409 page: never a 500
    # Each refusal says why: ours, or Django's own exact-unique message when the winner's name is
    # byte for byte the one a loser typed (the fullwidth spelling normalises to "target").
    refusals = [answer.text for answer in answers if answer.status_code != 302]
    reasons = ("taken", "already uses this email", "A user with that username already exists")
    assert all(any(reason in text for reason in reasons) for text in refusals), refusals


def test_axes_locks_an_account_out_across_workers_whatever_the_spelling(host_server):
    assert sign_up(host_server, "Zed", "zed@example.com").status_code == 201

    failures = [logged_in(host_server, typed, "wrong password")[1] for typed in ["zed", "ZED"]]
    locking = logged_in(host_server, "zeD", "wrong password")[1]
    _, right_password = logged_in(host_server, "Zed")

    assert [answer.status_code for answer in failures] == [200, 200]  # the page, with its error
    assert locking.status_code == 429  # the third failure, in a third spelling, locks the account
    assert right_password.status_code == 429
