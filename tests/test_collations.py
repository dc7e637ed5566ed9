"""What the database's own collation does with twins, on the database under test.

A legacy MariaDB/MySQL database can only hold ``maria`` beside ``Maria`` under a binary collation
(our test database's ``utf8mb4_bin``). Its default collations compare case-insensitively, so the
database itself refuses such twins; the accent-insensitive ones also refuse ``resume`` beside
``résumé``. PostgreSQL's default collation and SQLite's ``BINARY`` keep every byte apart. Each
test probes a throwaway table with a unique column in the collation named, and asserts what this
database does (docs/AUDIT.md explains what each means for users).
"""

import pytest
from django.db import IntegrityError, connection, transaction

PROBE = "authfold_collation_probe"


def accepts_both(first, second, collation=None):
    """Whether a unique column (in ``collation``, or the database's default) takes both values."""
    clause = f" COLLATE {collation}" if collation else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PROBE}")
        cursor.execute(f"CREATE TABLE {PROBE} (name varchar(150){clause} NOT NULL UNIQUE)")
        try:
            cursor.execute(f"INSERT INTO {PROBE} (name) VALUES (%s)", [first])
            try:
                with transaction.atomic():
                    cursor.execute(f"INSERT INTO {PROBE} (name) VALUES (%s)", [second])
            except IntegrityError:
                return False
            return True
        finally:
            cursor.execute(f"DROP TABLE {PROBE}")


# On each vendor: (binary, case-insensitive, accent-insensitive) collations, or None for the
# database's default column collation.
COLLATIONS = {
    "mysql": ("utf8mb4_bin", "utf8mb4_general_ci", "utf8mb4_unicode_ci"),
    "sqlite": ("BINARY", "NOCASE", "NOCASE"),
    "postgresql": (None, None, None),
}


@pytest.mark.django_db(transaction=True)
def test_binary_collation_keeps_case_twins_apart():
    binary = COLLATIONS[connection.vendor][0]
    assert accepts_both("maria", "Maria", binary)


@pytest.mark.django_db(transaction=True)
def test_case_insensitive_collation_makes_the_database_refuse_case_twins():
    case_insensitive = COLLATIONS[connection.vendor][1]
    accepted = accepts_both("maria", "Maria", case_insensitive)
    # MariaDB's default collations and SQLite's NOCASE refuse the twin; PostgreSQL has no
    # case-insensitive default collation, so it keeps both (our key table refuses them instead).
    assert accepted is (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)
def test_accent_insensitive_collation_makes_the_database_refuse_accent_variants():
    accent_insensitive = COLLATIONS[connection.vendor][2]
    accepted = accepts_both("resume", "résumé", accent_insensitive)
    # MariaDB's _ci collations (its default utf8mb4_general_ci too) treat é as e; SQLite's
    # NOCASE folds ASCII letters only, and PostgreSQL's default collation folds nothing.
    assert accepted is (connection.vendor != "mysql")


@pytest.mark.django_db(transaction=True)
def test_default_case_insensitive_collations_do_not_fold_sharp_s_to_ss():
    case_insensitive = COLLATIONS[connection.vendor][1]
    # authfold.accounts.caseless says Straße and STRASSE are one name; these collations disagree (only
    # MariaDB's utf8mb4_unicode_ci folds ß to ss), which is why the key table decides.
    assert accepts_both("Straße", "STRASSE", case_insensitive)


@pytest.mark.django_db(transaction=True)
def test_the_test_database_can_hold_legacy_case_twins():
    assert accepts_both("maria", "Maria")


def column_collation(table, column):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return cursor.fetchone()[0]


def collate_old_usernames(collation):
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE authfold_renamerecord MODIFY old_username varchar(150) "
            f"COLLATE {collation} NOT NULL"
        )


@pytest.mark.django_db(transaction=True)
def test_login_works_when_a_column_collation_is_not_the_connections():
    """A MariaDB/MySQL database made with ``utf8mb4_unicode_ci``: the connection's ``utf8mb4``
    collates otherwise, and the login's one statement (users, and the rename log's old names)
    must not mix the two. Elsewhere the login runs under the database's own collation."""
    from authfold.backends import CaseInsensitiveModelBackend
    from tests.factories import DEFAULT_PASSWORD, UserFactory

    maria = UserFactory(username="Maria")
    original = None
    if connection.vendor == "mysql":
        original = column_collation("authfold_renamerecord", "old_username")
        collate_old_usernames("utf8mb4_unicode_ci")
    try:
        found = CaseInsensitiveModelBackend().authenticate(
            None, username="MARIA", password=DEFAULT_PASSWORD
        )
    finally:
        if original:
            collate_old_usernames(original)
    assert found == maria
