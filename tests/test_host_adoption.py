"""The host project in ``tests/host`` adopts django-authfold by the runbook, and its own suite passes
on the database this suite runs on.

The host runs as a deployed project would: in its own process, from its own folder, with only that
folder on ``sys.path`` and ``authfold`` from the installed package. The checkout's root, where our
folder named ``accounts`` lives, is never on the path, so the host's own ``accounts`` package and
app label are the ones Django finds.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

HOST_DIR = Path(__file__).resolve().parent / "host"
HOST_TESTS_DIR = HOST_DIR / "tests"
# -P: do not put the script's folder or the working directory first on sys.path (Python 3.11+).
# Both are HOST_DIR here, so on 3.10 the path is the same without it.
PYTHON = [sys.executable, "-P"] if sys.version_info >= (3, 11) else [sys.executable]
SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def host_database_url(tmp_path):
    """A database of the vendor this run uses, under a name of its own (``<name>_host``), so the
    host's test database never meets ours."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'host.sqlite3'}"
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{url.path.lstrip('/')}_host"))


def host_environment(database_url):
    """The environment of a host process: its folder on the path, its database, nothing of ours."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(HOST_DIR)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(HOST_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": database_url,
    }


def run_in_host(*args, database_url):
    """``python <args>`` in the host's folder, in an environment with nothing of ours in it."""
    return subprocess.run(
        [*PYTHON, *args],
        cwd=HOST_DIR,
        env=host_environment(database_url),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def host_test_count():
    """How many tests the host's suite has: its ``test_*`` functions (it parametrizes none)."""
    return sum(
        1
        for path in HOST_TESTS_DIR.glob("test_*.py")
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    )


def outcome_counts(pytest_output):
    """``{"passed": 36, "failed": 2, ...}`` from the summary line that closes a pytest run."""
    summary = pytest_output.strip().splitlines()[-1] if pytest_output.strip() else ""
    return {
        outcome.rstrip("s") if outcome.startswith("error") else outcome: int(count)
        for count, outcome in SUMMARY_COUNT.findall(summary)
    }


def test_the_host_has_its_own_accounts_app_and_package(tmp_path):
    script = (
        "import django; django.setup()\n"
        "import accounts\n"
        "from django.apps import apps\n"
        "print(apps.get_app_config('accounts').path)\n"
        "print(accounts.__file__)\n"
        "print(apps.get_app_config('authfold').name)\n"
    )
    result = run_in_host(
        "-c",
        f"import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'hostsite.settings'\n{script}",
        database_url=host_database_url(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    app_path, package_file, authfold_app = result.stdout.split()
    assert Path(app_path) == HOST_DIR / "accounts"
    assert Path(package_file) == HOST_DIR / "accounts" / "__init__.py"
    assert authfold_app == "authfold.accounts"


def test_manage_py_check_passes_in_the_host(tmp_path):
    result = run_in_host("manage.py", "check", database_url=host_database_url(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_the_host_suite_passes_on_this_database(tmp_path):
    expected = host_test_count()
    result = run_in_host(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", database_url=host_database_url(tmp_path)
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert outcome_counts(result.stdout) == {"passed": expected}, report
    assert result.returncode == 0, report
