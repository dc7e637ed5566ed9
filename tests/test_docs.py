"""The documentation: each migration named in one place, and all of them; the test command's
docs build fails on a dead link; what the pages say about undoing, verifying and which files hold
what matches the code; no page speaks of an owner."""

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = ("accounts", "backends", "data_migrations", "mysite")
MIGRATION_ITEM = re.compile(r"^- `(\d{4}_\w+)`", re.MULTILINE)


def test_the_migrations_page_lists_every_migration_in_order():
    listed = MIGRATION_ITEM.findall((ROOT / "docs" / "MIGRATIONS.md").read_text())
    on_disk = sorted(path.stem for path in (ROOT / "accounts" / "migrations").glob("[0-9]*.py"))
    assert listed == on_disk


def test_no_other_page_lists_the_migrations():
    # A second list would go stale with the next migration: pages link to MIGRATIONS.md instead.
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        if page.name != "MIGRATIONS.md":
            assert len(MIGRATION_ITEM.findall(page.read_text())) < 2, page.name


# The docs build of the test command: the line of scripts/test that runs mkdocs.
DOCS_BUILD = next(
    line.split()
    for line in (ROOT / "scripts" / "test").read_text().splitlines()
    if line.startswith(".venv/bin/mkdocs build")
)


def build_docs(site):
    """Runs the test command's docs build in ``site`` (a copy of mkdocs.yml and docs/)."""
    return subprocess.run(
        [str(ROOT / DOCS_BUILD[0]), *DOCS_BUILD[1:]],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def docs_copy(tmp_path):
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    return tmp_path


def test_the_test_command_builds_the_docs_as_they_are(docs_copy):
    built = build_docs(docs_copy)

    assert built.returncode == 0, built.stdout + built.stderr


def test_the_test_command_s_docs_build_fails_on_a_dead_link(docs_copy):
    with (docs_copy / "docs" / "index.md").open("a") as page:
        page.write("\nHow it was measured: [`bench/README.md`](../bench/README.md).\n")

    assert build_docs(docs_copy).returncode != 0


def migration_before(name):
    """The migration of ours that ``name`` depends on."""
    migration = importlib.import_module(f"authfold.accounts.migrations.{name}").Migration
    [previous] = [dependency for app, dependency in migration.dependencies if app == "authfold"]
    return previous


def test_the_email_verification_undo_migrates_to_the_migration_before_its_own():
    runbook = (ROOT / "docs" / "ADOPTING.md").read_text()
    section = runbook.split("## 7. Email verification")[1].split("\n## ")[0]
    [target] = re.findall(r"`migrate authfold (\d{4})`", section)

    assert migration_before("0012_email_verification").startswith(target)


def test_the_security_page_does_not_call_email_ownership_unverified():
    security = " ".join((ROOT / "docs" / "SECURITY.md").read_text().split())

    assert "ownership is not verified" not in security.lower()


# Files of other projects that docs/PEERS.md names (Django's and DRF's own test suites).
OTHER_PROJECTS_FILES = {"tests/runtests.py", "tests/test_authtoken.py", "tests/test_sqlite.py"}
CITED_FILE = re.compile(
    r"(?<![\w/.-])((?:accounts|backends|data_migrations|mysite|tests|scripts|bench)"
    r"/[\w/-]+\.(?:py|md|html|txt))\b"
)


def test_every_file_the_docs_and_the_code_cite_exists():
    citing = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(path for folder in PACKAGE_FOLDERS for path in (ROOT / folder).rglob("*.py")),
    ]
    missing = [
        f"{path.relative_to(ROOT)}: {cited}"
        for path in citing
        for cited in CITED_FILE.findall(path.read_text())
        if cited not in OTHER_PROJECTS_FILES and not (ROOT / cited).exists()
    ]

    assert missing == []


OWNER = re.compile(r"\bthe (?:project's )?owner\b", re.IGNORECASE)


def test_user_facing_text_names_no_owner():
    texts = [
        ROOT / "README.md",
        ROOT / "DESCRIPTION.md",
        ROOT / "setup.cfg",
        ROOT / "pyproject.toml",
        *(ROOT / "docs").glob("*.md"),
        *(path for folder in PACKAGE_FOLDERS for path in (ROOT / folder).rglob("*.py")),
    ]
    named = [str(path.relative_to(ROOT)) for path in texts if OWNER.search(path.read_text())]

    assert named == []
