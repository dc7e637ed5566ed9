"""The runbook (docs/ADOPTING.md) runs as written: its marked code blocks, in order, adopt
django-authfold in a fresh ``django-admin startproject`` host whose users hold legacy twins.

A block marked ``<!-- runbook: settings -->`` is appended to the host's settings, ``urls`` to its
root URLconf, ``shell`` runs line by line in the project's folder (each line must exit 0), and
``output`` lists lines the shell block before it must print. A stale snippet fails here. The
blocks under "Rolling back everything" run last, after the adopted host has been checked.

The host runs as a deployed project does: its own process and folder, SQLite, ``authfold`` from
the installed package, nothing of this checkout on its path.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "ADOPTING.md"
MARKED_BLOCK = re.compile(
    r"<!-- runbook: (?P<kind>\w+) -->\n```[^\n]*\n(?P<body>.*?)\n```", re.DOTALL
)
BLOCK_KINDS = {"settings", "urls", "shell", "output"}
ROLLBACK_HEADING = "\n## Rolling back everything\n"
PYTHON = [sys.executable, "-P"] if sys.version_info >= (3, 11) else [sys.executable]
PASSWORD = "legacy-demo-password"

# What the test adds as the host's own, not the runbook's: a mail backend that needs no server,
# and a fast hasher.
HOST_OWN_SETTINGS = """
import django
if django.VERSION >= (6, 1):  # the new project's settings name their mailers (MAILERS) already
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""

# The legacy users as an old project's code inserted them: no validation, no signals.
INSERT_LEGACY_USERS = """
import json, sys
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
User = get_user_model()
now = timezone.now()
password = make_password(PASSWORD)
User.objects.bulk_create(
    User(
        username=username, email=email, is_active=active, is_staff=staff, is_superuser=staff,
        password=password if username != "social_sam" else make_password(None),
        last_login=None if last_login is None else now - timedelta(days=last_login),
        date_joined=now - timedelta(days=joined),
    )
    for username, email, active, staff, last_login, joined in LEGACY_USERS
)
"""

# After the runbook: who holds which name, and whom each spelling with each password logs in.
REPORT = """
import json
from django.contrib.auth import authenticate, get_user_model
User = get_user_model()
logins = {
    typed: getattr(authenticate(username=typed, password=PASSWORD), "username", None)
    for typed in TRIED
}
print(json.dumps({"usernames": sorted(User.objects.values_list("username", flat=True)),
                  "logins": logins}))
"""


def legacy_users():
    """The legacy demo database's users (``scripts/legacy_demo_db.py``), read without running it:
    the runbook's quoted outputs come from that data."""
    module = ast.parse((ROOT / "scripts" / "legacy_demo_db.py").read_text())
    for node in module.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "LEGACY_USERS":
            return ast.literal_eval(node.value)
    raise AssertionError("scripts/legacy_demo_db.py has no LEGACY_USERS")


def runbook_blocks():
    """The marked blocks of the runbook, in order, as ``(kind, body)``: those of the adoption,
    and those of "Rolling back everything"."""
    text = RUNBOOK.read_text()
    rollback_at = text.index(ROLLBACK_HEADING)
    adoption, rollback = [], []
    for match in MARKED_BLOCK.finditer(text):
        assert match["kind"] in BLOCK_KINDS, f"unknown runbook block kind: {match['kind']}"
        (adoption if match.start() < rollback_at else rollback).append(
            (match["kind"], match["body"])
        )
    return adoption, rollback


def host_environment(project):
    """A deployed host's environment: its folder, its SQLite file, ``python`` from this venv."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(project)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(project),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(command, project, *, shell=False):
    result = subprocess.run(
        command,
        cwd=project,
        env=host_environment(project),
        capture_output=True,
        text=True,
        timeout=300,
        shell=shell,
        executable="/bin/bash" if shell else None,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def manage_py_shell(code, project):
    return run([*PYTHON, "manage.py", "shell", "-c", code], project)


def shell_lines(body):
    """The commands of a shell block: its lines, without blank lines and comment lines."""
    return [line for line in body.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture
def legacy_host(tmp_path):
    """A fresh ``startproject`` host on SQLite with Django's tables and the legacy users."""
    run([*PYTHON, "-m", "django", "startproject", "host", str(tmp_path)], tmp_path)
    settings = tmp_path / "host" / "settings.py"
    settings.write_text(settings.read_text() + HOST_OWN_SETTINGS)
    run([*PYTHON, "manage.py", "migrate", "--verbosity", "0"], tmp_path)
    manage_py_shell(
        f"PASSWORD = {PASSWORD!r}\nLEGACY_USERS = {legacy_users()!r}\n" + INSERT_LEGACY_USERS,
        tmp_path,
    )
    return tmp_path


def run_blocks(blocks, project):
    """Run marked blocks in order in the host at ``project`` (see the module's docstring)."""
    settings = project / "host" / "settings.py"
    urls = project / "host" / "urls.py"
    last_output = None
    for kind, body in blocks:
        if kind == "settings":
            settings.write_text(f"{settings.read_text()}\n{body}\n")
        elif kind == "urls":
            urls.write_text(f"{urls.read_text()}\n{body}\n")
        elif kind == "shell":
            last_output = "".join(run(line, project, shell=True) for line in shell_lines(body))
        else:
            assert last_output is not None, "an output block before any shell block"
            for line in body.splitlines():
                assert line in last_output, f"the runbook quotes {line!r}; printed:\n{last_output}"


def test_the_runbook_marks_blocks_of_every_kind_and_a_rollback():
    adoption, rollback = runbook_blocks()
    assert {kind for kind, _ in adoption} == BLOCK_KINDS
    assert [kind for kind, _ in rollback] == ["shell"]


@pytest.mark.slow
def test_the_runbook_adopts_authfold_in_a_fresh_host_with_legacy_twins_and_rolls_back(
    legacy_host,
):
    adoption, rollback = runbook_blocks()
    run_blocks(adoption, legacy_host)

    tried = ["maria", "mARIA", "ＭＡＲＩＡ", "strasse", "ДЖОН", "Maria_1", "STRASSE_1", "джон_1"]
    printed = manage_py_shell(f"PASSWORD = {PASSWORD!r}\nTRIED = {tried!r}\n" + REPORT, legacy_host)
    report = json.loads(printed.strip().splitlines()[-1])  # after what Django's shell says first
    assert report["usernames"] == sorted(
        ["maria", "Maria_1", "MARIA_2", "Straße", "STRASSE_1", "Джон", "джон_1"]
        + ["ana", "legacy_bob", "social_sam"]
    )
    assert report["logins"] == {
        "maria": "maria",
        "mARIA": "maria",
        "ＭＡＲＩＡ": "maria",
        "strasse": "Straße",
        "ДЖОН": "Джон",
        "Maria_1": "Maria_1",
        "STRASSE_1": "STRASSE_1",
        "джон_1": "джон_1",
    }

    run_blocks(rollback, legacy_host)
    printed = manage_py_shell(f"PASSWORD = {PASSWORD!r}\nTRIED = []\n" + REPORT, legacy_host)
    restored = json.loads(printed.strip().splitlines()[-1])["usernames"]
    assert restored == sorted(username for username, *_ in legacy_users())
