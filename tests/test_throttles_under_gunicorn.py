"""The throttles against the demo host served as it is deployed, by gunicorn with three worker
processes, on the database this suite runs on: forged ``X-Forwarded-For`` headers, one client
throttling another, limits across workers, and failed logins per account in every spelling.

Clients are told apart by their real address: each one sends from an address of its own on the
loopback network (``127.0.0.2``, ``127.0.0.3``, ...), which is what ``REMOTE_ADDR`` shows.
"""

import re
import socket
import subprocess
import sys
from contextlib import contextmanager

import pytest
import redis
import requests
from requests.adapters import HTTPAdapter

from tests.django_process import (
    ROOT,
    child_environment,
    mailing_into,
    mails_in,
    scratch_database,
)
from tests.gunicorn_server import gunicorn

WORKERS = 3
PASSWORD = "a-long-pass-phrase"
REDIS_URL = "redis://127.0.0.1:6379/0"
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The shipped rates (mysite/settings.py): login and register_attempt 10/min per address, register
# and password_reset 10/hour per address, login_account 10/hour per account.
RATE = 10

# The servers' workers write to scratch databases made beside the test database. A test that
# starts its own server runs outside a transaction (PostgreSQL creates no database inside one).
pytestmark = pytest.mark.django_db
own_server = pytest.mark.django_db(transaction=True)

CACHES = {
    "redis": "",  # AUTHFOLD_CACHE_URL names the Redis
    "database": "",  # the shipped default, without AUTHFOLD_CACHE_URL
    "local memory": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
}


class Server:
    """A running demo host: its base URL, the Redis key prefix of its counters, and the process
    id of the worker that answered each request (from gunicorn's access log)."""

    def __init__(self, base, key_prefix, access_log):
        self.base, self.key_prefix, self.access_log = base, key_prefix, access_log

    def forget_counts(self):
        """Deletes this server's throttle counters from Redis (and no other run's)."""
        client = redis.Redis.from_url(REDIS_URL)
        pattern = re.sub(r"([\[\]*?\\])", r"\\\1", self.key_prefix) + ":*"
        for key in client.scan_iter(match=pattern):
            client.delete(key)

    def workers_that_answered(self):
        return set(self.access_log.read_text().split())


@contextmanager
def demo_host(folder, cache, settings_text=""):
    """The demo host (``mysite``) with the fast password hasher, migrated into a scratch database
    and served by gunicorn with ``WORKERS`` workers, its throttles counting in ``cache``."""
    with scratch_database(folder, "throttles") as (name, url):
        env = child_environment(folder, CACHES[cache] + settings_text)
        env["DATABASE_URL"] = url
        env.pop("AUTHFOLD_CACHE_URL", None)
        if cache == "redis":
            env["AUTHFOLD_CACHE_URL"] = REDIS_URL
        for command in (["migrate"], ["createcachetable"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command, "-v", "0"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
        access_log = folder / "access.log"
        options = ["--access-logfile", str(access_log), "--access-logformat", "%(p)s"]
        with gunicorn([sys.executable], "mysite.wsgi", ROOT, env, WORKERS, options) as base:
            host = Server(base, name, access_log)
            host.forget_counts()
            yield host


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, django_db_setup, django_db_blocker):
    """The demo host as shipped (no ``NUM_PROXIES``), counting in Redis; a sign-up's address
    logs in at once (optional verification), so it is one of the account's spellings here."""
    with (
        django_db_blocker.unblock(),
        demo_host(
            tmp_path_factory.mktemp("shipped"),
            "redis",
            'AUTHFOLD_EMAIL_VERIFICATION = "optional"\n',
        ) as host,
    ):
        yield host


@pytest.fixture
def server(shipped):
    """The shipped host with nothing counted yet."""
    shipped.forget_counts()
    return shipped


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given local address, so the server sees a client of that address."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address="127.0.0.1"):
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session


def api_login(server, username, password, headers=None, sender=None):
    body = {"username": username, "password": password}
    return (sender or client()).post(
        f"{server.base}/api/auth/token/", json=body, headers=headers or {}, timeout=60
    )


def page_post(server, path, form, headers=None, sender=None):
    """Posts ``form`` to one of our pages as a browser would (its CSRF token first)."""
    session = sender or client()
    token = CSRF_TOKEN.search(session.get(f"{server.base}{path}", timeout=30).text)[1]
    return session.post(
        f"{server.base}{path}",
        data={**form, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{server.base}{path}", **(headers or {})},
        allow_redirects=False,
        timeout=60,
    )


def web_login(server, username, password, headers=None, sender=None):
    form = {"username": username, "password": password}
    return page_post(server, "/accounts/login/", form, headers, sender)


def sign_up(server, username, sender=None):
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    answer = (sender or client("127.0.0.200")).post(
        f"{server.base}/api/users/", json=body, timeout=60
    )
    assert answer.status_code == 201, answer.text
    return answer


@contextmanager
def workers_held(server, count):
    """Keeps ``count`` workers busy, each reading a request that is not finished yet; what comes
    next is answered by a worker not held. (A sync worker reads one request at a time, and the
    connections are taken in the order they arrive.)"""
    port = int(server.base.rsplit(":", 1)[1])
    held = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(count)]
    for connection in held:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    try:
        yield
    finally:
        for connection in held:
            connection.sendall(b"Connection: close\r\n\r\n")
            while connection.recv(65536):
                pass
            connection.close()


def on_every_worker(server, calls):
    """Makes each call in turn, with 0, 1, 2, 0, ... other workers held, so the calls are answered
    by different workers (gunicorn's access log says which); their results in order."""
    results = []
    for n, call in enumerate(calls):
        with workers_held(server, n % WORKERS):
            results.append(call())
    return results


def forged(n):
    """A new ``X-Forwarded-For`` for each request, as an attacker sends."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def test_a_new_forged_forwarded_for_per_request_does_not_escape_the_api_login_throttle(server):
    sign_up(server, "victim")
    tries = [api_login(server, f"victim{n}", "wrong", forged(n)).status_code for n in range(15)]
    right_password = api_login(server, "victim", PASSWORD, forged(99))

    assert tries == [400] * RATE + [429] * 5
    assert right_password.status_code == 429
    assert int(right_password.headers["Retry-After"]) > 0


def test_a_new_forged_forwarded_for_per_request_does_not_escape_the_web_login_throttle(server):
    sign_up(server, "webvictim")
    tries = [web_login(server, f"web{n}", "wrong", forged(n)).status_code for n in range(15)]
    right_password = web_login(server, "webvictim", PASSWORD, forged(99))

    assert tries == [200] * RATE + [429] * 5  # 200: the page again, with its error
    assert right_password.status_code == 429
    assert int(right_password.headers["Retry-After"]) > 0
    assert "Too many attempts" in right_password.text


def test_a_forged_forwarded_for_of_another_client_does_not_throttle_that_client(server):
    sign_up(server, "localvictim")
    attacker, victim = client("127.0.0.2"), client("127.0.0.1")
    as_victim = {"X-Forwarded-For": "127.0.0.1"}
    attacks = [
        api_login(server, f"x{n}", "wrong", as_victim, attacker).status_code for n in range(12)
    ]

    assert attacks == [400] * RATE + [429] * 2  # the attacker throttles only itself
    assert api_login(server, "localvictim", PASSWORD, sender=victim).status_code == 200
    assert web_login(server, "localvictim", PASSWORD, sender=victim).status_code == 302


def test_failed_logins_on_one_name_count_together_in_every_spelling(server):
    sign_up(server, "maria")
    sign_up(server, "marina")
    spellings = ["maria", "MARIA", "ＭＡＲＩＡ", "Maria"]
    tries = []
    for n in range(RATE + 2):  # each from an address of its own: no address reaches its limit
        typed, sender = spellings[n % len(spellings)], client(f"127.0.1.{n + 1}")
        login = api_login if n % 2 else web_login
        tries.append(login(server, typed, "wrong", sender=sender).status_code)

    assert tries == [200, 400] * (RATE // 2) + [429, 429]
    right_on_api = api_login(server, "maria", PASSWORD, sender=client("127.0.2.1"))
    right_on_web = web_login(server, "Maria", PASSWORD, sender=client("127.0.2.2"))
    assert right_on_api.status_code == right_on_web.status_code == 429
    assert int(right_on_web.headers["Retry-After"]) > 0
    # The account's email is another name, counted apart: a 429 links no email to a username.
    by_email = api_login(server, "maria@example.com", PASSWORD, sender=client("127.0.2.3"))
    assert by_email.status_code == 200
    # Another account, from an address that tried maria: counted apart.
    assert api_login(server, "marina", PASSWORD, sender=client("127.0.1.1")).status_code == 200


def test_web_sign_up_posts_beyond_the_register_attempt_rate_get_429_with_retry_after(server):
    form = {"username": "someone", "email": "", "password1": "x", "password2": "x"}
    answers = [page_post(server, "/accounts/signup/", form, forged(n)) for n in range(RATE + 1)]

    assert [answer.status_code for answer in answers] == [200] * RATE + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_web_password_reset_posts_beyond_their_rate_get_429_with_retry_after(server):
    form = {"email": "nobody@example.com"}
    path = "/accounts/password/reset/"
    answers = [page_post(server, path, form, forged(n)) for n in range(RATE + 1)]

    assert [answer.status_code for answer in answers] == [302] * RATE + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_showing_the_throttled_pages_is_not_counted(server):
    pages = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    shown = [client().get(f"{server.base}{page}", timeout=30) for page in pages * (RATE + 1)]

    assert {answer.status_code for answer in shown} == {200}
    assert web_login(server, "nobody", "wrong").status_code == 200


@own_server
def test_behind_one_proxy_the_client_is_the_address_the_proxy_appended(tmp_path, django_db_blocker):
    """``NUM_PROXIES = 1``: the last address of ``X-Forwarded-For`` is the client's, whatever the
    client itself put before it."""
    settings_text = 'REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": 1}\n'
    with django_db_blocker.unblock(), demo_host(tmp_path, "redis", settings_text) as host:
        tries = [
            api_login(host, f"x{n}", "wrong", {"X-Forwarded-For": f"10.0.0.{n}, 198.51.100.7"})
            for n in range(RATE + 2)
        ]
        another_client = api_login(host, "x", "wrong", {"X-Forwarded-For": "198.51.100.8"})

    assert [answer.status_code for answer in tries] == [400] * RATE + [429] * 2
    assert another_client.status_code == 400


@own_server
@pytest.mark.parametrize("cache", ["redis", "database"])
def test_the_login_limit_holds_across_workers_with_a_shared_cache(
    tmp_path, django_db_blocker, cache
):
    with django_db_blocker.unblock(), demo_host(tmp_path, cache) as host:
        logins = [lambda n=n: api_login(host, f"x{n}", "wrong") for n in range(3 * RATE)]
        tries = [answer.status_code for answer in on_every_worker(host, logins)]
        workers = host.workers_that_answered()

    assert len(workers) > 1, "every request went to one worker: this shows nothing"
    assert tries == [400] * RATE + [429] * (2 * RATE)


@own_server
def test_with_the_local_memory_cache_each_worker_counts_alone(tmp_path, django_db_blocker):
    """The contrast the docs state: Django's default cache lets more through than the rate."""
    with django_db_blocker.unblock(), demo_host(tmp_path, "local memory") as host:
        logins = [lambda n=n: api_login(host, f"x{n}", "wrong") for n in range(3 * RATE)]
        tries = [answer.status_code for answer in on_every_worker(host, logins)]
        workers = host.workers_that_answered()

    assert len(workers) > 1, "every request went to one worker: this shows nothing"
    assert tries.count(400) > RATE


def mails_to(folder, address):
    """How many mails the host wrote to ``address``, in any case."""
    return sum(f"to: {address.lower()}" in mail.lower().splitlines() for mail in mails_in(folder))


def api_token(server, username):
    """The token of an account signed up through the server: the demo prevents enumeration, so a
    sign-up's answer carries none, and a login gives it."""
    credentials = {"username": username, "password": PASSWORD}
    answer = client("127.0.0.201").post(
        f"{server.base}/api/auth/token/", json=credentials, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Token {answer.json()['token']}"}


@own_server
def test_mails_to_one_address_stay_within_its_cap_across_workers(tmp_path, django_db_blocker):
    """An account holding a case variant of V cycles its case: each change mails V a notice."""
    mail_folder = tmp_path / "mail"
    with (
        django_db_blocker.unblock(),
        demo_host(tmp_path, "redis", mailing_into(mail_folder)) as host,
    ):
        sign_up(host, "victim")  # its confirmation link: V's first mail
        token = api_token(host, "victim")
        spellings = ["VICTIM@example.com", "victim@EXAMPLE.com", "Victim@Example.com"]
        changes = [
            lambda typed=typed: client().patch(
                f"{host.base}/api/users/me/",
                json={"email": typed, "current_password": PASSWORD},
                headers=token,
                timeout=60,
            )
            for typed in spellings * WORKERS
        ]
        answers = [answer.status_code for answer in on_every_worker(host, changes)]
        workers = host.workers_that_answered()
        sent = mails_to(mail_folder, "victim@example.com")

    assert len(workers) > 1, "every request went to one worker: this shows nothing"
    assert answers == [200] * 3 * WORKERS
    assert sent == 5  # the demo's email_destination: 5 an hour


@own_server
def test_web_profile_posts_count_with_the_api_across_workers(tmp_path, django_db_blocker):
    settings_text = 'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["profile"] = "4/hour"\n'
    with django_db_blocker.unblock(), demo_host(tmp_path, "redis", settings_text) as host:
        sign_up(host, "prober")
        token = api_token(host, "prober")
        session = client()
        assert web_login(host, "prober", PASSWORD, sender=session).status_code == 302
        form = {"username": "prober", "email": "taken@example.com", "current_password": "guess"}
        guesses = [
            lambda: page_post(host, "/accounts/profile/", form, sender=session) for _ in range(4)
        ]
        answers = [answer.status_code for answer in on_every_worker(host, guesses)]
        on_the_api = client().patch(
            f"{host.base}/api/users/me/", json={"username": "Prober"}, headers=token, timeout=60
        )
        workers = host.workers_that_answered()

    assert len(workers) > 1, "every request went to one worker: this shows nothing"
    assert answers == [200] * 4
    assert on_the_api.status_code == 429
