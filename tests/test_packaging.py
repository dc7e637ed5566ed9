"""What installs from the checkout: one import package, ``authfold``, with every module, template
and translation, its LICENSE, nothing of the demo host, the tests or the benchmarks, and no
setuptools warnings; the wheel installs from binaries only (no compiler) and knows its version.

The checkout is copied to a temporary directory first (without virtualenvs, caches and databases),
because building writes ``build/`` and ``*.egg-info`` into the source tree it builds.
"""

import email.parser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

import authfold

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = ("accounts", "backends", "data_migrations")  # installed under authfold.*
VERSION = authfold.__version__
DIST_INFO = f"django_authfold-{VERSION}.dist-info"
SHIPPED_LANGUAGES = ("de", "fr", "es", "pt_BR", "ru", "ja")
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
        metadata = email.parser.Parser().parsestr(
            archive.read(f"{DIST_INFO}/METADATA").decode("utf-8")
        )
    return {
        "path": wheel,
        "names": names,
        "metadata": metadata,
        "output": result.stdout + result.stderr,
    }


def top_level_names(wheel_names):
    return {name.split("/", 1)[0] for name in wheel_names}


def test_the_wheel_installs_one_top_level_package_authfold(wheel_build):
    names = top_level_names(wheel_build["names"])
    assert names == {"authfold", DIST_INFO}


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
    expected.add("authfold/__init__.py")  # from the folder authfold, which holds only that
    in_wheel = {name for name in wheel_build["names"] if name.startswith("authfold/")}
    assert in_wheel == expected
    assert "authfold/accounts/templates/authfold/login.html" in in_wheel


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_the_wheel_carries_the_compiled_translations(wheel_build, language):
    assert f"authfold/accounts/locale/{language}/LC_MESSAGES/django.mo" in wheel_build["names"]


def test_the_wheel_carries_the_license(wheel_build):
    (license_file,) = [name for name in wheel_build["names"] if name.endswith("/LICENSE")]
    assert license_file.startswith(f"{DIST_INFO}/")
    assert wheel_build["metadata"]["License-File"] == "LICENSE"


def test_the_wheels_version_is_the_packages(wheel_build):
    assert wheel_build["metadata"]["Version"] == VERSION


# A link in Markdown whose target is not a whole URL: relative to a checkout the wheel is not in.
RELATIVE_LINK = re.compile(r"\]\((?!https?://)[^)]*\)")


def test_the_wheels_description_has_no_link_that_leads_nowhere_outside_the_checkout(wheel_build):
    description = wheel_build["metadata"].get_payload()

    assert "django-authfold" in description
    assert RELATIVE_LINK.findall(description) == []


def test_no_install_instruction_names_an_index_the_package_is_not_on():
    for text in ("README.md", "DESCRIPTION.md", "docs/ADOPTING.md"):
        assert "pip install django-authfold" not in (CHECKOUT / text).read_text(), text


def test_the_changelogs_unreleased_section_names_the_release_this_version_leads_to():
    changelog = (CHECKOUT / "CHANGELOG.md").read_text()
    [coming] = re.findall(r"^## \[Unreleased\] \((\d+\.\d+\.\d+)\)$", changelog, re.MULTILINE)
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - ", changelog, re.MULTILINE)
    version = Version(VERSION)

    assert version.is_devrelease and version.base_version == coming
    assert all(Version(coming) > Version(release) for release in released)


# Installed only with an extra, never by a plain install: a compiler (PyICU), the demo's settings,
# the API's schema annotations and its docs page.
NOT_RUNTIME_REQUIREMENTS = (
    "pyicu",
    "dj-database-url",
    "drf-spectacular",
    "drf-spectacular-sidecar",
)


@pytest.mark.parametrize("requirement", NOT_RUNTIME_REQUIREMENTS)
def test_the_wheel_requires_only_what_the_core_imports(wheel_build, requirement):
    unconditional = {
        re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower()
        for line in wheel_build["metadata"].get_all("Requires-Dist")
        if "extra ==" not in line
    }
    assert requirement not in unconditional


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


@pytest.fixture(scope="module")
def binary_only_venv(wheel_build, tmp_path_factory):
    """A fresh virtualenv with the wheel installed from binaries only, and no compiler to call:
    ``CC`` and ``CXX`` fail, so a dependency that tried to build from source would fail too."""
    venv = tmp_path_factory.mktemp("binary-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [
            str(python), "-m", "pip", "install", "--disable-pip-version-check",
            "--only-binary=:all:", str(wheel_build["path"]),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CC": "false", "CXX": "false"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return {"python": python, "output": result.stdout + result.stderr}


@pytest.mark.slow
def test_the_wheel_installs_from_binaries_only(binary_only_venv):
    assert "Successfully installed" in binary_only_venv["output"]
    assert "django-authfold" in binary_only_venv["output"]


@pytest.mark.slow
def test_the_installed_package_prints_its_metadata_version(binary_only_venv, tmp_path):
    result = run_in(binary_only_venv, "import authfold; print(authfold.__version__)", tmp_path)
    assert result.returncode == 0, result.stderr
    metadata = run_in(
        binary_only_venv,
        "from importlib.metadata import version; print(version('django-authfold'))",
        tmp_path,
    )
    assert result.stdout.strip() == metadata.stdout.strip() == VERSION


# The look-alike skeleton from the committed table, where PyICU is not installed.
SKELETON_WITHOUT_ICU = (
    IMPORT_THE_PACKAGE
    + """
import importlib.util
from authfold.accounts.caseless import username_skeleton
print(importlib.util.find_spec("icu") is None)
print(username_skeleton("\u0440\u0430\u0443\u0440\u0430\u04cf") == username_skeleton("paypal"))
print(username_skeleton("MAR\u0130A") == username_skeleton("maria"))
"""
)


@pytest.mark.slow
def test_the_installed_package_computes_skeletons_without_pyicu(binary_only_venv, tmp_path):
    result = run_in(binary_only_venv, SKELETON_WITHOUT_ICU, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-3:] == ["True", "True", "True"]


@pytest.mark.slow
def test_the_installed_package_speaks_german(binary_only_venv, tmp_path):
    code = (
        IMPORT_THE_PACKAGE
        + """
from django.utils import translation
from authfold.accounts.validators import USERNAME_TAKEN
with translation.override("de"):
    print(str(USERNAME_TAKEN))
"""
    )
    result = run_in(binary_only_venv, code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("Dieser Benutzername ist vergeben.")
