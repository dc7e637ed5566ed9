"""Every message of the package is translated in each shipped language: no catalog lacks a
message of the source (or keeps one the source dropped), none is untranslated or fuzzy, and each
compiled ``.mo`` says what its ``.po`` says. Refusals then read in the visitor's language."""

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory
from tests.web.pages import error_codes, new_account_data

CHECKOUT = Path(__file__).resolve().parent.parent
APP = CHECKOUT / "accounts"
LOCALE = APP / "locale"
SHIPPED_LANGUAGES = ["de", "fr", "es", "pt_BR", "ru", "ja"]
DJANGO_ADMIN = Path(sys.executable).with_name("django-admin")


def read_po(path):
    """The entries of a .po file: (msgid, msgid_plural or None) -> {"msgstr": [...], "flags": set}.
    The header (msgid "") is kept under ("", None)."""
    entries = {}
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        fields, flags, key = {}, set(), None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if "msgid" not in fields:
            continue  # only comments (obsolete entries are "#~" lines)
        msgstrs = [value for name, value in sorted(fields.items()) if name.startswith("msgstr")]
        entries[(fields["msgid"], fields.get("msgid_plural"))] = {"msgstr": msgstrs, "flags": flags}
    return entries


def catalog(language):
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def test_the_package_ships_a_catalog_for_each_promised_language():
    assert sorted(path.name for path in LOCALE.iterdir()) == sorted(SHIPPED_LANGUAGES)


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = read_po(catalog(language))
    untranslated = [msgid for msgid, entry in entries.items() if not all(entry["msgstr"])]
    fuzzy = [msgid for msgid, entry in entries.items() if "fuzzy" in entry["flags"]]
    assert untranslated == []
    assert fuzzy == []
    assert f"Language: {language}\n" in entries[("", None)]["msgstr"][0]


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_the_compiled_catalog_says_what_its_po_says(language):
    with open(catalog(language).with_suffix(".mo"), "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    expected = {}
    for (msgid, plural), entry in read_po(catalog(language)).items():
        if not msgid:
            continue
        if plural is None:
            expected[msgid] = entry["msgstr"][0]
        else:
            expected.update({(msgid, n): text for n, text in enumerate(entry["msgstr"])})
    assert {key: text for key, text in compiled.items() if key != ""} == expected


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory):
    """The messages makemessages finds in the app's source today (GNU gettext's xgettext)."""
    assert shutil.which("xgettext"), "needs GNU gettext (scripts/bootstrap test installs it)"
    copy = tmp_path_factory.mktemp("app") / "accounts"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    # Outside any project, as scripts/update-translations runs it (the suite's settings would not
    # import from the copy's directory).
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [str(DJANGO_ADMIN), "makemessages", "--locale", "de", "--extension", "html,txt,py"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return set(read_po(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_each_catalog_has_exactly_the_messages_of_the_source(source_messages, language):
    shipped = set(read_po(catalog(language)))
    assert sorted(source_messages - shipped) == [], "new messages: run scripts/update-translations"
    assert sorted(shipped - source_messages) == [], (
        "dropped messages: run scripts/update-translations"
    )


@pytest.mark.django_db
def test_the_caseless_twin_refusal_on_sign_up_reads_in_german(client, settings):
    settings.LANGUAGE_CODE = "de"
    UserFactory(username="maria")
    response = client.post(reverse("authfold:signup"), new_account_data(username="MARIA"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    page = response.content.decode()
    assert "Dieser Benutzername ist vergeben." in page
    assert "„MARIA“ als derselbe Name" in page
    assert '<html lang="de">' in page


@pytest.mark.django_db
def test_the_caseless_twin_refusal_in_the_api_reads_in_the_active_language(client):
    UserFactory(username="maria")
    with translation.override("ja"):
        response = client.post(
            "/api/users/",
            {"username": "MARIA", "email": "new@example.com", "password": "violet kettle orbit 42"},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert response.json()["username"] == [
        "このユーザー名は使用されています。ユーザー名は大文字・小文字を区別しないため、"
        "「MARIA」は同じ名前と見なされます。"
    ]
