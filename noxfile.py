"""The Django version matrix: the suite on SQLite under each supported Django release, and on the
newest, PostgreSQL's key tests (its Python's Unicode is newer than the one the key is pinned to).

The three databases run under Django 5.2 LTS in scripts/test; these sessions add 4.2 LTS and the
newest release (which needs Python 3.12), each followed by the peer suites (Django's auth_tests
and DRF's authentication tests of that version, with authfold adopted: scripts/peer-suites).
"""

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

MATRIX = [("3.11", "django>=4.2,<4.3"), ("3.12", "django>=6.0,<7")]
POSTGRES_KEY_TESTS = [
    "tests/test_caseless.py",
    "tests/test_unicode_version_check.py",
    "tests/test_postgres_username_index.py",
    "tests/test_postgres_login_function.py",
]


@nox.session
@nox.parametrize(("python", "django"), MATRIX, ids=["django4.2", "django6"])
def tests(session, django):
    session.install("-e", ".[test]", django)
    session.run("python", "-m", "django", "--version")
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "-m",
        "not browser",
        env={"DATABASE_URL": f"sqlite:///{session.create_tmp()}/matrix.sqlite3"},
    )
    session.run("python", "scripts/peer-suites", "--database", "sqlite")
    postgres = os.environ.get("AUTHFOLD_MATRIX_POSTGRES_URL")
    if postgres and session.python != "3.11":
        # The key is pinned to Python 3.11's Unicode; PostgreSQL's copy of it must agree with
        # what a newer Python computes, for every code point.
        session.run(
            "pytest",
            "-p",
            "no:cacheprovider",
            *POSTGRES_KEY_TESTS,
            env={"DATABASE_URL": postgres, "AUTHFOLD_EXPECT_VENDOR": "postgresql"},
        )
