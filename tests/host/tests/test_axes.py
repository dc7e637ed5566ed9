"""django-axes counts failures per account, whatever case each failure typed the name in."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.people import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_failures_as_zed_ZED_and_zeD_lock_out_Zed(client, make_user):
    make_user("Zed")
    for spelling in ("zed", "ZED", "zeD"):
        assert log_in(client, spelling, "wrong password").status_code in (200, 429)

    response = log_in(client, "Zed", PASSWORD)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_failures_for_one_account_do_not_lock_out_another(client, make_user):
    make_user("Zed")
    ann = make_user("Ann")
    for spelling in ("zed", "ZED", "zeD"):
        log_in(client, spelling, "wrong password")

    response = log_in(client, "ann", PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(ann.pk)


def test_the_api_token_login_is_refused_for_a_locked_out_account(client, make_user):
    make_user("Zed")
    for spelling in ("zed", "ZED", "zeD"):
        log_in(client, spelling, "wrong password")

    response = client.post(
        reverse("authfold_api:auth-token"),
        {"username": "Zed", "password": PASSWORD},
        content_type="application/json",
    )

    # axes' own lockout answer, as on the web page: the API hands Django's request to the backends.
    assert response.status_code == 429
    assert b"token" not in response.content
