"""The runbook (docs/ADOPTING.md) runs as written: its marked code blocks, in order, adopt
django-authfold in hosts whose users hold legacy twins, and its rollback leaves their databases
with the tables they had.

A block marked ``<!-- runbook: settings -->`` is added to the host's settings (its settings
module, or the file a host that calls ``settings.configure()`` runs them from), ``urls`` to its
root URLconf, ``shell`` runs line by line in the project's folder (each line must exit 0), and
``output`` lists lines the shell block before it must print. A stale snippet fails here. The
blocks under "Rolling back everything" run last, after the adopted host has been checked.

Each host runs as a deployed project does: its own process and folder, SQLite, ``authfold`` from
the installed package, nothing of this checkout on its path. The hosts (``HOSTS``) share one
``startproject`` build (Django's tables and the legacy users) and differ in how their settings
are written, in the apps, models and backends of their own, and in what they did before the
adoption; a new kind of host is one more ``Host``.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from authfold.accounts.configured_settings import with_settings_file

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "ADOPTING.md"
MIGRATIONS = ROOT / "accounts" / "migrations"
MARKED_BLOCK = re.compile(
    r"<!-- runbook: (?P<kind>\w+) -->\n```[^\n]*\n(?P<body>.*?)\n```", re.DOTALL
)
BLOCK_KINDS = {"settings", "urls", "shell", "output"}
ROLLBACK_HEADING = "\n## Rolling back everything\n"
NUMBERED_STEP = re.compile(r"^## (\d+)\. ", re.MULTILINE)
STEP_ROW = re.compile(r"^\| (\d+) \|", re.MULTILINE)
PYTHON = [sys.executable, "-P"] if sys.version_info >= (3, 11) else [sys.executable]
PASSWORD = "legacy-demo-password"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"

# What the test adds as the host's own, not the runbook's: a mail backend that needs no server,
# and a fast hasher.
HOST_OWN_SETTINGS = """
import django
if django.VERSION >= (6, 1):  # the new project's settings name their mailers (MAILERS) already
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""

# A host that builds its settings in manage.py: tuples where startproject writes lists, caches of
# its own (a rate-limit cache its login page needs), a second database; the runbook's settings
# snippets come from authfold_settings.py, as the runbook says for such hosts.
CONFIGURED_MANAGE_PY = """import sys
from pathlib import Path

import django
from django.conf import settings

from authfold.accounts.configured_settings import with_settings_file

BASE_DIR = Path(__file__).resolve().parent
options = dict(
    SECRET_KEY="configured-host-secret-key-for-tests-only-0123456789abcdef",
    DEBUG=True,
    ALLOWED_HOSTS=["localhost"],
    INSTALLED_APPS=(
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ),
    MIDDLEWARE=(
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ),
    ROOT_URLCONF="host.urls",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    DATABASES={
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
        "archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "archive.sqlite3"},
    },
    CACHES=CACHES,
    USE_TZ=True,
    STATIC_URL="static/",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
)
if django.VERSION >= (6, 1):
    options["MAILERS"] = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    options["EMAIL_BACKEND"] = "django.core.mail.backends.console.EmailBackend"
settings.configure(**with_settings_file(options, BASE_DIR / "authfold_settings.py"))

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

# A forum's app: its editors are a multi-table subclass of User, and its login backend subclasses
# ModelBackend with a get_user of its own (the editor loaded with the user, a mark of who loaded).
FORUM_MODELS = """from django.contrib.auth.models import User
from django.db import models


class Editor(User):
    desk = models.CharField(max_length=50, blank=True)
"""
FORUM_MIGRATION = """import django.contrib.auth.models
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.CreateModel(
            name="Editor",
            fields=[
                (
                    "user_ptr",
                    models.OneToOneField(
                        auto_created=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        parent_link=True,
                        primary_key=True,
                        serialize=False,
                        to="auth.user",
                    ),
                ),
                ("desk", models.CharField(blank=True, max_length=50)),
            ],
            bases=("auth.user",),
            managers=[("objects", django.contrib.auth.models.UserManager())],
        ),
    ]
"""
FORUM_BACKEND = """from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User


class ForumBackend(ModelBackend):
    def get_user(self, user_id):
        user = User.objects.select_related("editor").filter(pk=user_id).first()
        if user is not None:
            user.loaded_by_forum = True
        return user if self.user_can_authenticate(user) else None
"""
# The runbook's step 3 for such a backend, done by hand: the mixin before its base class.
FORUM_BACKEND_MADE_CASELESS = FORUM_BACKEND.replace(
    "from django.contrib.auth.models import User\n",
    "from django.contrib.auth.models import User\n\nfrom authfold.backends import CaselessLoginMixin\n",
).replace(
    "class ForumBackend(ModelBackend):", "class ForumBackend(CaselessLoginMixin, ModelBackend):"
)
FORUM_SETTINGS = """
INSTALLED_APPS = [*INSTALLED_APPS, "forum"]
AUTHENTICATION_BACKENDS = ["forum.backends.ForumBackend"]
"""
# Ana was made an editor before the adoption; after it, the forum's own code and admin must meet
# the rule on editors too, and its get_user must still be the one that loads the user.
MAKE_ANA_AN_EDITOR = """
from django.contrib.auth.models import User
from forum.models import Editor
ana = User.objects.get(username="ana")
Editor(user_ptr=ana, desk="news").save_base(raw=True)
"""
FORUM_REPORT = """
import json
from django.db import IntegrityError, transaction
from forum.backends import ForumBackend
from forum.models import Editor
refused = {}
for name, fields in {"twin": {"username": "MARIA"}, "shared email": {"username": "newbie", "email": "ANA@example.com"}}.items():
    try:
        with transaction.atomic():
            Editor.objects.create(**{"email": f"{name[0]}@forum.example", **fields})
        refused[name] = False
    except IntegrityError:
        refused[name] = True
ana = Editor.objects.get(username="ana")
loaded = ForumBackend().get_user(ana.pk)
print(json.dumps({"refused": refused, "get_user": getattr(loaded, "loaded_by_forum", False),
                  "desk": loaded.editor.desk}))
"""

# The legacy users as an old project's code inserted them: no validation, no signals.
INSERT_LEGACY_USERS = """
import json, sys
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
User = get_user_model()
now = timezone.now()
password = make_password(PASSWORD)
User.objects.bulk_create(
    User(
        username=username, email=email, is_active=active, is_staff=staff, is_superuser=staff,
        password=password if username != "social_sam" else make_password(None),
        last_login=None if last_login is None else now - timedelta(days=last_login),
        date_joined=now - timedelta(days=joined),
    )
    for username, email, active, staff, last_login, joined in LEGACY_USERS
)
"""

# After the runbook: who holds which name, whom each spelling with each password logs in, and
# the caches the host has.
REPORT = """
import json
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
User = get_user_model()
logins = {
    typed: getattr(authenticate(username=typed, password=PASSWORD), "username", None)
    for typed in TRIED
}
print(json.dumps({"usernames": sorted(User.objects.values_list("username", flat=True)),
                  "logins": logins, "caches": settings.CACHES}))
"""

# The tables of each of the host's databases.
TABLES = """
import json
from django.db import connections
print(json.dumps({alias: sorted(connections[alias].introspection.table_names())
                  for alias in connections}))
"""


@dataclass(frozen=True)
class Host:
    """A kind of host the runbook must adopt, made from the shared ``startproject`` build."""

    name: str
    # Where settings snippets go, relative to the project's folder.
    settings_file: str
    # The host's CACHES before the runbook: each alias must be the same after it.
    own_caches: dict
    # What turns the copied build into this host (files to write, relative paths), and what its
    # own code did to its database before the adoption (``manage.py`` commands, shell code).
    files: dict = field(default_factory=dict)
    removed: tuple = ()
    own_settings: str = ""
    commands: tuple = ()
    shell_code: str = ""
    # Edits the runbook asks of the host's own code (files written before its blocks run), and
    # what the host's code sees after the adoption (shell code printing JSON, and that JSON).
    edits: dict = field(default_factory=dict)
    own_report: str = ""
    expected_own_report: dict = field(default_factory=dict)


DJANGO_DEFAULT_CACHES = {"default": {"BACKEND": LOCMEM}}
CONFIGURED_HOST_CACHES = {
    "default": {"BACKEND": LOCMEM, "LOCATION": "host-default"},
    "ratelimit": {"BACKEND": LOCMEM, "LOCATION": "host-ratelimit"},
}

HOSTS = [
    Host("startproject", "host/settings.py", DJANGO_DEFAULT_CACHES),
    Host(
        "configured_in_manage_py",
        "authfold_settings.py",
        CONFIGURED_HOST_CACHES,
        files={
            "manage.py": CONFIGURED_MANAGE_PY.replace("=CACHES", f"={CONFIGURED_HOST_CACHES!r}"),
            "authfold_settings.py": "# django-authfold's settings snippets (docs/ADOPTING.md)\n",
        },
        removed=("host/settings.py",),
    ),
    Host(
        "own_backend_and_editors",
        "host/settings.py",
        DJANGO_DEFAULT_CACHES,
        files={
            "forum/__init__.py": "",
            "forum/models.py": FORUM_MODELS,
            "forum/backends.py": FORUM_BACKEND,
            "forum/migrations/__init__.py": "",
            "forum/migrations/0001_initial.py": FORUM_MIGRATION,
        },
        own_settings=FORUM_SETTINGS,
        commands=(("migrate", "forum", "--verbosity", "0"),),
        shell_code=MAKE_ANA_AN_EDITOR,
        edits={"forum/backends.py": FORUM_BACKEND_MADE_CASELESS},
        own_report=FORUM_REPORT,
        expected_own_report={
            "refused": {"twin": True, "shared email": True},
            "get_user": True,
            "desk": "news",
        },
    ),
]


def legacy_users():
    """The legacy demo database's users (``scripts/legacy_demo_db.py``), read without running it:
    the runbook's quoted outputs come from that data."""
    module = ast.parse((ROOT / "scripts" / "legacy_demo_db.py").read_text())
    for node in module.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "LEGACY_USERS":
            return ast.literal_eval(node.value)
    raise AssertionError("scripts/legacy_demo_db.py has no LEGACY_USERS")


def runbook_blocks():
    """The marked blocks of the runbook, in order, as ``(kind, body)``: those of the adoption,
    and those of "Rolling back everything"."""
    text = RUNBOOK.read_text()
    rollback_at = text.index(ROLLBACK_HEADING)
    adoption, rollback = [], []
    for match in MARKED_BLOCK.finditer(text):
        assert match["kind"] in BLOCK_KINDS, f"unknown runbook block kind: {match['kind']}"
        (adoption if match.start() < rollback_at else rollback).append(
            (match["kind"], match["body"])
        )
    return adoption, rollback


def host_environment(project):
    """A deployed host's environment: its folder, its SQLite file, ``python`` from this venv."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(project)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(project),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(command, project, *, shell=False):
    result = subprocess.run(
        command,
        cwd=project,
        env=host_environment(project),
        capture_output=True,
        text=True,
        timeout=300,
        shell=shell,
        executable="/bin/bash" if shell else None,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def manage_py_shell(code, project):
    return run([*PYTHON, "manage.py", "shell", "-c", code], project)


def printed_json(code, project):
    """What ``code`` prints as its last line, as JSON (Django's shell may print lines first)."""
    return json.loads(manage_py_shell(code, project).strip().splitlines()[-1])


def shell_lines(body):
    """The commands of a shell block: its lines, without blank lines and comment lines."""
    return [line for line in body.splitlines() if line.strip() and not line.startswith("#")]


def settings_snippets():
    """The runbook's settings blocks, in order, as one file's text."""
    adoption, _ = runbook_blocks()
    return "\n".join(body for kind, body in adoption if kind == "settings")


def quoted_output_after(command):
    """The lines of the output block that follows the shell block running ``command``."""
    adoption, _ = runbook_blocks()
    kinds = [kind for kind, _ in adoption]
    for at, (kind, body) in enumerate(adoption):
        if kind == "shell" and command in body:
            assert kinds[at + 1] == "output", f"no output block after {command!r}"
            return adoption[at + 1][1].splitlines()
    raise AssertionError(f"no shell block runs {command!r}")


@pytest.fixture(scope="module")
def startproject_build(tmp_path_factory):
    """A fresh ``startproject`` on SQLite with Django's tables and the legacy users, built once
    and copied for each host."""
    project = tmp_path_factory.mktemp("startproject")
    run([*PYTHON, "-m", "django", "startproject", "host", str(project)], project)
    settings = project / "host" / "settings.py"
    settings.write_text(settings.read_text() + HOST_OWN_SETTINGS)
    run([*PYTHON, "manage.py", "migrate", "--verbosity", "0"], project)
    manage_py_shell(
        f"PASSWORD = {PASSWORD!r}\nLEGACY_USERS = {legacy_users()!r}\n" + INSERT_LEGACY_USERS,
        project,
    )
    return project


@pytest.fixture
def make_host(startproject_build, tmp_path):
    """The project folder of ``host``: a copy of the shared build, made into that host."""

    def make(host):
        project = tmp_path / host.name
        shutil.copytree(startproject_build, project)
        for path in host.removed:
            (project / path).unlink()
        for path, text in host.files.items():
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_text(text)
        if host.own_settings:
            settings = project / host.settings_file
            settings.write_text(settings.read_text() + host.own_settings)
        for command in host.commands:
            run([*PYTHON, "manage.py", *command], project)
        if host.shell_code:
            manage_py_shell(host.shell_code, project)
        return project

    return make


def run_blocks(blocks, project, host):
    """Run marked blocks in order in ``host`` at ``project`` (see the module's docstring)."""
    settings = project / host.settings_file
    urls = project / "host" / "urls.py"
    last_output = None
    for kind, body in blocks:
        if kind == "settings":
            settings.write_text(f"{settings.read_text()}\n{body}\n")
        elif kind == "urls":
            urls.write_text(f"{urls.read_text()}\n{body}\n")
        elif kind == "shell":
            last_output = "".join(run(line, project, shell=True) for line in shell_lines(body))
        else:
            assert last_output is not None, "an output block before any shell block"
            for line in body.splitlines():
                assert line in last_output, f"the runbook quotes {line!r}; printed:\n{last_output}"


def test_the_runbook_marks_blocks_of_every_kind_and_a_rollback():
    adoption, rollback = runbook_blocks()
    assert {kind for kind, _ in adoption} == BLOCK_KINDS
    assert [kind for kind, _ in rollback] == ["shell"]


def test_the_runbook_numbers_its_steps_without_a_gap_and_tables_each_one():
    text = RUNBOOK.read_text()
    numbered = [int(number) for number in NUMBERED_STEP.findall(text)]
    assert numbered == list(range(len(numbered)))
    assert [int(number) for number in STEP_ROW.findall(text)] == numbered


def test_the_runbook_quotes_every_migration_of_ours_unapplied():
    ours = sorted(path.stem for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    quoted = quoted_output_after("showmigrations authfold")
    listed = [line.removeprefix(" [ ] ") for line in quoted if line.startswith(" [ ] ")]
    assert listed == ours


def snippets_applied_to(options, tmp_path):
    snippets = tmp_path / "authfold_settings.py"
    snippets.write_text(settings_snippets())
    return with_settings_file(options, snippets)


def host_options(**changes):
    """The settings a host could pass to ``settings.configure()``, with ``changes``."""
    return {
        "INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes"],
        "MIDDLEWARE": ["django.contrib.sessions.middleware.SessionMiddleware"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "host.db"}},
        **changes,
    }


def test_settings_snippets_keep_the_host_s_own_caches(tmp_path):
    configured = snippets_applied_to(host_options(CACHES=CONFIGURED_HOST_CACHES), tmp_path)

    assert {alias: configured["CACHES"][alias] for alias in CONFIGURED_HOST_CACHES} == (
        CONFIGURED_HOST_CACHES
    )
    assert configured["CACHES"][configured["AUTHFOLD_CACHE"]]["LOCATION"] == "authfold_cache"


def test_settings_snippets_give_a_host_without_caches_django_s_default_beside_ours(tmp_path):
    configured = snippets_applied_to(host_options(), tmp_path)

    assert configured["CACHES"]["default"] == DJANGO_DEFAULT_CACHES["default"]
    assert configured["AUTHFOLD_CACHE"] in configured["CACHES"]


def test_settings_snippets_extend_apps_and_middleware_given_as_tuples(tmp_path):
    configured = snippets_applied_to(
        host_options(
            INSTALLED_APPS=("host_app", "django.contrib.auth", "django.contrib.contenttypes"),
            MIDDLEWARE=(
                "django.contrib.sessions.middleware.SessionMiddleware",
                "host.middleware.Own",
            ),
        ),
        tmp_path,
    )

    apps = configured["INSTALLED_APPS"]
    assert apps[:3] == ["host_app", "authfold.accounts", "django.contrib.auth"]
    assert configured["MIDDLEWARE"][:3] == [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "authfold.accounts.middleware.ModelBackendSessionMiddleware",
        "host.middleware.Own",
    ]


def test_settings_snippets_make_every_sqlite_database_wait_for_the_write_lock(tmp_path):
    sqlite = "django.db.backends.sqlite3"
    databases = {"default": {"ENGINE": sqlite, "NAME": "a"}, "archive": {"ENGINE": sqlite}}
    configured = snippets_applied_to(host_options(DATABASES=databases), tmp_path)

    assert [database["OPTIONS"]["timeout"] for database in configured["DATABASES"].values()] == [
        20,
        20,
    ]


def test_settings_snippets_keep_the_host_s_own_throttle_rates_and_exception_handler(tmp_path):
    rest_framework = {
        "DEFAULT_THROTTLE_RATES": {"login": "3/min", "uploads": "5/hour"},
        "EXCEPTION_HANDLER": "host.api.exception_handler",
    }
    configured = snippets_applied_to(host_options(REST_FRAMEWORK=rest_framework), tmp_path)

    rates = configured["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]
    assert (rates["login"], rates["uploads"], rates["login_account"]) == (
        "3/min",
        "5/hour",
        "10/hour",
    )
    assert configured["REST_FRAMEWORK"]["EXCEPTION_HANDLER"] == "host.api.exception_handler"


@pytest.mark.slow
@pytest.mark.parametrize("host", HOSTS, ids=[host.name for host in HOSTS])
def test_the_runbook_adopts_authfold_in_a_host_with_legacy_twins_and_rolls_back(host, make_host):
    project = make_host(host)
    tables_before = printed_json(TABLES, project)
    adoption, rollback = runbook_blocks()
    for path, text in host.edits.items():
        (project / path).write_text(text)
    run_blocks(adoption, project, host)

    tried = ["maria", "mARIA", "ＭＡＲＩＡ", "strasse", "ДЖОН", "Maria_1", "STRASSE_1", "джон_1"]
    report = printed_json(f"PASSWORD = {PASSWORD!r}\nTRIED = {tried!r}\n" + REPORT, project)
    assert report["usernames"] == sorted(
        ["maria", "Maria_1", "MARIA_2", "Straße", "STRASSE_1", "Джон", "джон_1"]
        + ["ana", "legacy_bob", "social_sam"]
    )
    assert report["logins"] == {
        "maria": "maria",
        "mARIA": "maria",
        "ＭＡＲＩＡ": "maria",
        "strasse": "Straße",
        "ДЖОН": "Джон",
        "Maria_1": "Maria_1",
        "STRASSE_1": "STRASSE_1",
        "джон_1": "джон_1",
    }
    assert {alias: report["caches"][alias] for alias in host.own_caches} == host.own_caches
    if host.own_report:
        assert printed_json(host.own_report, project) == host.expected_own_report

    run_blocks(rollback, project, host)
    restored = printed_json(f"PASSWORD = {PASSWORD!r}\nTRIED = []\n" + REPORT, project)
    assert restored["usernames"] == sorted(username for username, *_ in legacy_users())
    assert printed_json(TABLES, project) == tables_before
