"""``manage.py`` in a child process: under other settings (start-up choices such as the order of
``INSTALLED_APPS`` are made once per process), or at a real terminal (``createsuperuser`` and
``changepassword`` prompt only on a TTY, and read passwords from it)."""

import email
import email.policy
import json
import os
import pty
import select
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url():
    """A ``DATABASE_URL`` naming the database this test runs on (the ``test_*`` one)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
    user = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    return f"{scheme}://{user}@{config['HOST']}:{config['PORT']}/{config['NAME']}"


@contextmanager
def scratch_database(folder, suffix):
    """A new, empty database beside the test database, on the same server: yields its name (a
    file in ``folder`` on SQLite) and its URL; dropped afterwards. Needs a connection outside any
    transaction (PostgreSQL creates no database inside one)."""
    if connection.vendor == "sqlite":
        name = str(folder / f"{suffix}.sqlite3")
        yield name, f"sqlite:///{name}"
        return
    name = f"{connection.settings_dict['NAME']}_{suffix}"
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted}")
    try:
        yield name, f"{test_database_url().rsplit('/', 1)[0]}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")


def child_environment(tmp_path, settings_text=""):
    """The environment of a child ``manage.py``: the test database, and a settings module in
    ``tmp_path`` that is the demo host's, with the tests' fast password hasher and then
    ``settings_text``."""
    (tmp_path / "child_settings.py").write_text(
        "from mysite.settings import *  # noqa\n"
        'PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n' + settings_text
    )
    env = {**os.environ, "DATABASE_URL": test_database_url()}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")])
    env["DJANGO_SETTINGS_MODULE"] = "child_settings"
    return env


def mailing_into(folder):
    """Settings text: the host writes its mails into files in ``folder`` (Django 6.1's
    ``MAILERS``, the ``EMAIL_*`` settings before it)."""
    backend = "django.core.mail.backends.filebased.EmailBackend"
    return (
        "if django.VERSION >= (6, 1):\n"
        f'    MAILERS = {{"default": {{"BACKEND": "{backend}",'
        f' "OPTIONS": {{"file_path": {str(folder)!r}}}}}}}\n'
        "else:\n"
        f'    EMAIL_BACKEND = "{backend}"\n'
        f"    EMAIL_FILE_PATH = {str(folder)!r}\n"
    )


def mails_in(folder):
    """Every mail a host wrote into ``folder`` (see :func:`mailing_into`), oldest first, as text.

    Django's file backend names a file after the second and its connection's ``id()``, and
    appends to it: two mails sent in one second by one worker may share a file.
    """
    if not folder.exists():
        return []
    paths = sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns)
    raw_mails = [raw for path in paths for raw in path.read_text().split("\n" + "-" * 79 + "\n")]
    return [readable(raw) for raw in raw_mails if raw.strip()]


def readable(raw):
    """A mail's headers and its plain body, decoded: Django 6 writes long lines (a link with its
    key) quoted-printable, broken where a regular expression would not find them."""
    message = email.message_from_string(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)) or message
    headers = "".join(f"{name}: {value}\n" for name, value in message.items())
    return f"{headers}\n{body.get_content()}"


def run_manage(tmp_path, *args, settings_text="", **variables):
    """Run ``manage.py args`` to its end, with environment ``variables``; returns the
    ``CompletedProcess`` (text output)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**child_environment(tmp_path, settings_text), **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_at_terminal(tmp_path, args, answers, timeout=60):
    """Run ``manage.py args`` at a pseudo-terminal, typing each answer once its prompt appears.

    ``answers``: ``(prompt, text)`` pairs, in order. Returns the exit code and everything the
    terminal showed (prompts, echoed input, stdout and stderr).
    """
    env = child_environment(tmp_path)
    with warnings.catch_warnings():
        # Python 3.12 warns that forking a threaded process may deadlock the child; ours only
        # calls execve, which takes no lock.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, terminal = pty.fork()
    if pid == 0:  # the child: becomes manage.py, with the terminal as its controlling TTY
        os.execve(sys.executable, [sys.executable, str(ROOT / "manage.py"), *args], env)
    shown, seen_up_to, pending = b"", 0, list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], max(0, deadline - time.monotonic()))
        if not ready:  # timed out waiting for a prompt: the child will not finish on its own
            os.kill(pid, 9)
            break
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child has exited and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        while pending and (found := shown.find(pending[0][0].encode(), seen_up_to)) >= 0:
            seen_up_to = found + len(pending[0][0])
            os.write(terminal, pending.pop(0)[1].encode() + b"\n")
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace").replace("\r\n", "\n")


def run_in_own_host(settings_module, script, folder):
    """Run ``script`` in a process of its own under ``settings_module``, on a throwaway SQLite
    file in ``folder``, from the checkout; returns its last printed line, read as JSON."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
    }
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])
