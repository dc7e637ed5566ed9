"""The Django version matrix: the suite on SQLite under each supported Django release.

The three databases run under Django 5.2 LTS in scripts/test; these sessions add 4.2 LTS and the
newest release (which needs Python 3.12), each followed by the peer suites (Django's auth_tests
and DRF's authentication tests of that version, with authfold adopted: scripts/peer-suites).
"""

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

MATRIX = [("3.11", "django>=4.2,<4.3"), ("3.12", "django>=6.0,<7")]


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
