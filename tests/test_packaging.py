"""What installs from the checkout: one import package, ``authfold``, with every module and
template, nothing of the demo host, the tests or the benchmarks, and no setuptools warnings.

The checkout is copied to a temporary directory first (without virtualenvs, caches and databases),
because building writes ``build/`` and ``*.egg-info`` into the source tree it builds.
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = ("accounts", "backends", "data_migrations")  # installed under authfold.*
NEVER_INSTALLED = ("accounts", "backends", "data_migrations", "mysite", "tests", "bench")
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", ".nox", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    "*.sqlite3", ".pytest_cache", ".ruff_cache", "test-results",
)  # fmt: skip

# distutils says this on every build when PYTHONDONTWRITEBYTECODE is set; it is not a warning
# about the project.
BYTE_COMPILING_DISABLED = re.compile(r"^warning: \w+: byte-compiling is disabled, skipping\.$")


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory):
    """The checkout's files, in a directory the builds may write into."""
    copy = tmp_path_factory.mktemp("checkout") / "django-authfold"
    shutil.copytree(CHECKOUT, copy, ignore=NOT_SOURCE)
    return copy


@pytest.fixture(scope="module")
def wheel_build(source_copy, tmp_path_factory):
    """``python -m build --wheel`` of the checkout: the wheel's file names and what the build said."""
    outdir = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(source_copy)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = outdir.glob("django_authfold-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {"names": names, "output": result.stdout + result.stderr}


def top_level_names(wheel_names):
    return {name.split("/", 1)[0] for name in wheel_names}


def test_the_wheel_installs_one_top_level_package_authfold(wheel_build):
    names = top_level_names(wheel_build["names"])
    assert names == {"authfold", "django_authfold-0.1.0.dist-info"}


@pytest.mark.parametrize("folder", NEVER_INSTALLED)
def test_the_wheel_carries_no_top_level_folder_of_the_checkout(wheel_build, folder):
    assert folder not in top_level_names(wheel_build["names"])


def test_the_wheel_carries_every_module_and_template_of_the_package_folders(wheel_build):
    expected = {
        f"authfold/{path.relative_to(CHECKOUT).as_posix()}"
        for folder in PACKAGE_FOLDERS
        for path in (CHECKOUT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    in_wheel = {name for name in wheel_build["names"] if name.startswith("authfold/")}
    assert in_wheel == expected
    assert "authfold/accounts/templates/authfold/login.html" in in_wheel


def test_building_the_wheel_prints_no_warnings(wheel_build):
    warnings = [
        line
        for line in wheel_build["output"].splitlines()
        if re.search(r"warn|deprecat|!!", line, re.IGNORECASE)
        and not BYTE_COMPILING_DISABLED.match(line.strip())
    ]
    assert warnings == []


@pytest.fixture(scope="module")
def installed_venv(source_copy, tmp_path_factory):
    """A fresh virtualenv with ``pip install <checkout>`` (dependencies included) done in it."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(source_copy)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {"python": python, "output": result.stdout + result.stderr}


def run_in(venv, code, tmp_path):
    """Runs ``code`` with the venv's Python, outside the checkout (whose folders would import)."""
    return subprocess.run(
        [str(venv["python"]), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


# The backend and the engine import Django's auth models, so they need configured settings, as
# django.contrib.auth.backends does.
IMPORT_THE_PACKAGE = """
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "authfold.accounts"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
)
django.setup()
import authfold.accounts, authfold.backends, authfold.data_migrations
from django.template.loader import get_template
print(get_template("authfold/login.html").origin.name)
"""


@pytest.mark.slow
def test_pip_install_of_the_checkout_imports_as_authfold(installed_venv, tmp_path):
    result = run_in(installed_venv, IMPORT_THE_PACKAGE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "site-packages/authfold/accounts/templates/authfold/login.html" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", NEVER_INSTALLED)
def test_pip_install_of_the_checkout_installs_no_other_top_level_package(
    installed_venv, tmp_path, name
):
    result = run_in(installed_venv, f"import {name}", tmp_path)
    assert f"No module named '{name}'" in result.stderr


@pytest.mark.slow
def test_pip_install_of_the_checkout_prints_no_setuptools_warnings(installed_venv):
    assert not re.search(
        r"SetuptoolsDeprecationWarning|SetuptoolsWarning|BuildBackendWarning|!!",
        installed_venv["output"],
    )
