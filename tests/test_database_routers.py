"""Our migrations obey the project's database routers: a database that a router keeps our app out
of (djangoproject.com's read-only ``trac`` database, say) is left untouched by every one of them,
forwards and backwards, as Django's own operations leave it."""

import pytest

from tests.django_process import run_manage, scratch_database

# A second database that no app may migrate, beside the demo host's own.
ROUTED_SETTINGS = """
DATABASES["legacy"] = {{**DATABASES["default"], "NAME": {name!r}}}


class NothingMigratesLegacy:
    def allow_migrate(self, db, app_label, **hints):
        return False if db == "legacy" else None


DATABASE_ROUTERS = ["child_settings.NothingMigratesLegacy"]
"""

SHOW_LEGACY_TABLES = (
    "from django.db import connections; "
    "print(sorted(connections['legacy'].introspection.table_names()))"
)


@pytest.fixture
def legacy_database_name(tmp_path, transactional_db):
    """The name of a second, empty database on the server the tests run on."""
    with scratch_database(tmp_path, "legacy") as (name, _url):
        yield name


def on_legacy(tmp_path, legacy_database_name, *args):
    """``manage.py args --database legacy`` beside a router that closes ``legacy`` to every app."""
    routed = ROUTED_SETTINGS.format(name=legacy_database_name)
    return run_manage(tmp_path, *args, "--database", "legacy", "-v", "0", settings_text=routed)


def legacy_tables(tmp_path, legacy_database_name):
    routed = ROUTED_SETTINGS.format(name=legacy_database_name)
    shown = run_manage(tmp_path, "shell", "-v", "0", "-c", SHOW_LEGACY_TABLES, settings_text=routed)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.strip()


def test_migrate_leaves_a_database_the_routers_close_to_us_untouched(
    tmp_path, legacy_database_name
):
    forwards = on_legacy(tmp_path, legacy_database_name, "migrate")

    assert forwards.returncode == 0, forwards.stderr
    assert "authfold_" not in legacy_tables(tmp_path, legacy_database_name)


def test_migrating_back_leaves_a_database_the_routers_close_to_us_untouched(
    tmp_path, legacy_database_name
):
    forwards = on_legacy(tmp_path, legacy_database_name, "migrate")
    assert forwards.returncode == 0, forwards.stderr

    backwards = on_legacy(tmp_path, legacy_database_name, "migrate", "authfold", "zero")

    assert backwards.returncode == 0, backwards.stderr
    assert "authfold_" not in legacy_tables(tmp_path, legacy_database_name)
