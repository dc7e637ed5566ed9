"""``conflict_audit`` lists the addresses still waiting for their confirmation link, in each of
its formats; accounts from before verification (no row) count as confirmed and are not listed."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from authfold.accounts.models import UnconfirmedEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def unconfirmed():
    UserFactory(username="maria", email="maria@example.com")  # from before: confirmed
    nadia = UserFactory(username="nadia", email="nadia@example.org")
    UnconfirmedEmail.objects.create(user=nadia, email=nadia.email, created_at=timezone.now())
    return nadia


def test_text_report_lists_unconfirmed_addresses(unconfirmed):
    report = audit()
    assert "Unconfirmed email addresses: 1" in report
    listed = [line.split()[:3] for line in report.splitlines()]
    assert [str(unconfirmed.pk), "nadia", "nadia@example.org"] in listed
    assert "maria@example.com" not in report


def test_json_report_lists_unconfirmed_addresses(unconfirmed):
    report = json.loads(audit("--format", "json"))
    [row] = report["unconfirmed_emails"]
    assert (row["id"], row["username"], row["email"]) == (
        unconfirmed.pk,
        "nadia",
        "nadia@example.org",
    )
    assert report["summary"]["unconfirmed_emails"] == 1


def test_csv_report_has_a_row_per_unconfirmed_address(unconfirmed):
    rows = list(csv.DictReader(StringIO(audit("--format", "csv"))))
    assert [(row["section"], row["username"], row["email"]) for row in rows] == [
        ("unconfirmed_email", "nadia", "nadia@example.org")
    ]
