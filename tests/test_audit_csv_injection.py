"""``conflict_audit --format csv`` never writes a cell a spreadsheet would run: a cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written behind a ``'``
(OWASP's CSV injection); the JSON output keeps every value exact."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.twins import bulk_users

pytestmark = pytest.mark.django_db

FORMULAS = ["+1+1", "=A1", "@x", "-2+3", "\tcmd", "\rcmd"]


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_csv_report_writes_formula_usernames_as_text():
    bulk_users(*FORMULAS, "plain", email="")
    rows = list(csv.DictReader(StringIO(audit("--format", "csv"), newline="")))
    usernames = [row["username"] for row in rows if row["section"] == "blank_email"]
    assert usernames == [f"'{name}" for name in FORMULAS] + ["plain"]


def test_csv_plan_writes_formula_usernames_as_text():
    bulk_users("@x", "@X")
    rows = list(csv.DictReader(StringIO(audit("--plan", "--format", "csv"))))
    assert [row["old"] for row in rows] == ["'@X"]


def test_json_report_keeps_formula_usernames_exact():
    bulk_users(*FORMULAS, email="")
    report = json.loads(audit("--format", "json"))
    assert [entry["username"] for entry in report["blank_emails"]] == FORMULAS
