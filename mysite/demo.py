"""What the demo tells a newcomer to try, said once: ``scripts/demo`` prints it as its banner, the
home page lists it, and ``tests/browser/test_demo_story.py`` tries every login in it on the demo's
own database, so the words and what the site does cannot drift apart.

The accounts are ``scripts/legacy_demo_db.py``'s, after ``migrate`` resolved their twins: ``maria``
keeps her name, ``Maria`` became ``Maria_1`` and the inactive ``MARIA`` became ``MARIA_2``.
"""

import json
import sys
import textwrap
from dataclasses import dataclass

# Every demo account's password.
DEMO_PASSWORD = "legacy-demo-password"


@dataclass(frozen=True)
class SuggestedLogin:
    """Typing any of ``typed`` (and :data:`DEMO_PASSWORD`) on ``door`` (``web``, ``admin`` or
    ``api``) logs in to the account now named ``lands_in``; ``why`` says what it shows."""

    door: str
    typed: tuple
    lands_in: str
    why: str


SUGGESTED_LOGINS = (
    SuggestedLogin(
        "web",
        ("maria", "MARIA", "ＭＡＲＩＡ"),
        "maria",
        "one account in any case, fullwidth letters too; MARIA_2, once MARIA, is inactive and "
        "stands in nobody's way",
    ),
    SuggestedLogin(
        "web",
        ("Maria",),
        "Maria_1",
        "migrate renamed her from Maria: her old name and her password still log her in for 90 "
        "days, and the next page tells her the new name",
    ),
    SuggestedLogin("web", ("STRASSE@example.DE",), "Straße", "by email, in any case"),
    SuggestedLogin("admin", ("MARIA",), "maria", "maria is staff"),
    SuggestedLogin("api", ("MARIA",), "maria", "the token, and the username as it is stored"),
)

# Sign-ups the demo suggests trying, each refused: the name is taken in another case.
REFUSED_SIGNUPS = ("Maria", "strasse")

# Where the demo's mail goes (mysite/settings.py: the console backend), and what the link in it
# does there (AUTHFOLD_EMAIL_VERIFICATION = "mandatory").
MAIL = (
    "printed in the terminal that runs the demo, never sent. A new account's address waits for "
    "the confirmation link printed there: open it, and the address logs in and receives password "
    "resets (the username logs in at once)."
)


def logins_on(door):
    """The suggested logins on ``door``."""
    return [login for login in SUGGESTED_LOGINS if login.door == door]


def or_list(names):
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def curl_body(login):
    """The JSON body of the banner's ``curl`` for an API login."""
    return json.dumps({"username": login.typed[0], "password": DEMO_PASSWORD}, ensure_ascii=False)


INDENT = " " * 14
WIDTH = 100


def said(first_line, why):
    """``first_line``, then ``why`` in parentheses on the lines below it, wrapped."""
    return [
        first_line,
        *textwrap.wrap(
            f"({why})", WIDTH, initial_indent=INDENT + "  ", subsequent_indent=INDENT + "   "
        ),
    ]


def banner(port):
    """The demo's "Try it" text, for a server on 127.0.0.1:``port``."""
    site = f"http://127.0.0.1:{port}"
    lines = [
        f"  The site:   {site}/",
        f"  Log in:     {site}/accounts/login/  (every password: {DEMO_PASSWORD})",
    ]
    for login in logins_on("web"):
        lines += said(f"{INDENT}as {or_list(login.typed)}: you are {login.lands_in}", login.why)
    for login in logins_on("admin"):
        lines += said(
            f"  The admin:  {site}/admin/  as {or_list(login.typed)}: you are {login.lands_in}",
            login.why,
        )
    signups = " or ".join(f'"{name}"' for name in REFUSED_SIGNUPS)
    lines.append(f"  Sign up:    {site}/accounts/signup/  and try {signups}: refused (taken).")
    lines += textwrap.wrap(
        f"Mail:       {MAIL}", WIDTH, initial_indent="  ", subsequent_indent=INDENT
    )
    lines.append(f"  The API:    {site}/api/docs/")
    for login in logins_on("api"):
        lines += [
            f"{INDENT}curl -s -X POST localhost:{port}/api/auth/token/ "
            "-H 'Content-Type: application/json' \\",
            f"{INDENT}     -d '{curl_body(login)}'",
        ]
        lines += said(
            f'{INDENT}answers {{"token": "...", "username": "{login.lands_in}"}}', login.why
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(banner(sys.argv[1] if len(sys.argv) > 1 else 8000))
