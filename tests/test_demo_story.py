"""The demo says what to try in one place (``mysite/demo.py``): ``scripts/demo`` prints it and the
home page lists it. Whether each suggestion is true is ``tests/browser/test_demo_story.py``'s."""

import subprocess
import sys
from pathlib import Path

import pytest

from mysite.demo import SUGGESTED_LOGINS, banner

CHECKOUT = Path(__file__).resolve().parent.parent


def test_the_demo_script_prints_the_banner_the_suggestions_make():
    assert '.venv/bin/python -m mysite.demo "$PORT"' in (CHECKOUT / "scripts" / "demo").read_text()
    printed = subprocess.run(
        [sys.executable, "-m", "mysite.demo", "8123"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == banner(8123) + "\n"
    for login in SUGGESTED_LOGINS:
        for typed in login.typed:
            assert typed in printed
        assert f"you are {login.lands_in}" in printed or f'"{login.lands_in}"' in printed


@pytest.mark.django_db
def test_the_home_page_lists_every_suggested_login(client):
    page = client.get("/")
    shown = [str(item) for item in page.context["suggested_logins"]]
    assert shown == [str(login) for login in SUGGESTED_LOGINS]
    text = page.content.decode()
    assert text.count('data-testid="suggested-login"') == len(SUGGESTED_LOGINS)
    for login in SUGGESTED_LOGINS:
        for typed in login.typed:
            assert f"<code>{typed}</code>" in text
        assert f"you are <code>{login.lands_in}</code>" in text


def test_the_banner_says_mail_is_printed_in_the_terminal_and_what_its_link_confirms():
    said = " ".join(banner(8123).split())

    assert "Mail: printed in the terminal that runs the demo, never sent" in said
    assert "A new account's address waits for the confirmation link printed there" in said


@pytest.mark.django_db
def test_the_home_page_says_where_the_demo_s_mail_goes(client):
    text = " ".join(client.get("/").content.decode().split())

    assert "Mail is printed in the terminal that runs the demo" in text
    assert "confirmation link" in text
