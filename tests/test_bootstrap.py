"""``scripts/bootstrap demo`` (what ``make demo`` runs) installs the package with its demo extras
and nothing of the test toolchain: no system packages, no compiler, no browser; running it again
does nothing. It runs on a copy of the checkout, with an ``apt-get`` and a ``sudo`` that refuse."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_packaging import NOT_SOURCE

CHECKOUT = Path(__file__).resolve().parent.parent
REFUSING_COMMAND = '#!/bin/sh\necho "$0 $*" >> "$(dirname "$0")/called"\nexit 1\n'


@pytest.fixture(scope="module")
def demo_bootstrap(tmp_path_factory):
    """A copy of the checkout after ``scripts/bootstrap demo``, and what each of two runs said."""
    copy = tmp_path_factory.mktemp("checkout") / "django-authfold"
    shutil.copytree(CHECKOUT, copy, ignore=NOT_SOURCE)
    stubs = tmp_path_factory.mktemp("stubs")
    for name in ("apt-get", "sudo"):
        (stubs / name).write_text(REFUSING_COMMAND)
        (stubs / name).chmod(0o755)
    environment = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    environment.pop("VIRTUAL_ENV", None)
    runs = [
        subprocess.run(
            ["scripts/bootstrap", "demo"],
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
        )
        for _ in range(2)
    ]
    return {"copy": copy, "runs": runs, "apt_calls": stubs / "called"}


def venv_imports(demo_bootstrap, module):
    python = demo_bootstrap["copy"] / ".venv" / "bin" / "python"
    code = f"import importlib.util; print(importlib.util.find_spec({module!r}) is not None)"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "True"


@pytest.mark.slow
def test_the_demo_bootstrap_succeeds_without_system_packages(demo_bootstrap):
    first = demo_bootstrap["runs"][0]
    assert first.returncode == 0, first.stdout + first.stderr
    assert not demo_bootstrap["apt_calls"].exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "module", ["authfold", "dj_database_url", "drf_spectacular", "drf_spectacular_sidecar", "axes"]
)
def test_the_demo_bootstrap_installs_what_the_demo_imports(demo_bootstrap, module):
    assert venv_imports(demo_bootstrap, module)


@pytest.mark.slow
@pytest.mark.parametrize("module", ["icu", "playwright", "MySQLdb", "pytest", "schemathesis"])
def test_the_demo_bootstrap_installs_nothing_of_the_test_toolchain(demo_bootstrap, module):
    assert not venv_imports(demo_bootstrap, module)


@pytest.mark.slow
def test_the_demo_site_passes_its_checks_with_what_the_demo_bootstrap_installed(demo_bootstrap):
    copy = demo_bootstrap["copy"]
    result = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "manage.py", "check"],
        cwd=copy,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{copy}/demo.sqlite3"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_demo_bootstrap_run_again_installs_nothing(demo_bootstrap):
    second = demo_bootstrap["runs"][1]
    assert second.returncode == 0, second.stdout + second.stderr
    assert "installing" not in second.stdout + second.stderr
