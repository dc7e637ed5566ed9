"""The documentation names each migration in one place, and names them all."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
