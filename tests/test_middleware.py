"""The middleware a host adds: sessions that ``ModelBackend`` logged in survive the switch to ours,
and a save refused for a caseless twin in a view that is not ours answers 409, never 500."""

import json

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import RequestFactory
from django.urls import reverse

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.middleware import CaselessConflictMiddleware
from tests.factories import UserFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OURS = "authfold.backends.CaseInsensitiveModelBackend"

pytestmark = pytest.mark.django_db


def test_a_session_model_backend_logged_in_stays_logged_in_once_ours_took_its_place(client):
    user = UserFactory()
    client.force_login(user, backend=MODEL_BACKEND)  # logged in before the adoption

    response = client.get(reverse("authfold:profile"))

    assert response.status_code == 200
    assert response.context["user"] == user
    assert client.session[BACKEND_SESSION_KEY] == OURS


def test_such_a_session_still_ends_when_the_password_changes(client):
    user = UserFactory()
    client.force_login(user, backend=MODEL_BACKEND)
    user.set_password("another password entirely")
    user.save()

    response = client.get(reverse("authfold:profile"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("authfold:login"))


def test_a_session_is_left_alone_while_model_backend_is_still_listed(client, settings):
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND, OURS]
    client.force_login(UserFactory(), backend=MODEL_BACKEND)

    assert client.get(reverse("authfold:profile")).status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == MODEL_BACKEND


def refused(request):
    middleware = CaselessConflictMiddleware(lambda request: None)
    return middleware.process_exception(request, CaselessConflict("username", "MARIA"))


def test_a_refused_save_answers_a_409_page_naming_the_field():
    response = refused(RequestFactory().post("/settings/", {"username": "MARIA"}))

    assert response.status_code == 409
    page = response.content.decode()
    assert "so “MARIA” counts as the same name" in page
    assert "Another account already has this username, so nothing was changed" in page


def test_a_refused_save_answers_json_to_a_request_that_sent_json():
    request = RequestFactory().post("/api/signup/", {"username": "MARIA"}, "application/json")

    response = refused(request)

    assert response.status_code == 409
    [message] = json.loads(response.content)["username"]
    assert "so “MARIA” counts as the same name" in message


def test_a_refused_save_answers_json_to_a_request_that_asks_for_it():
    request = RequestFactory().post(
        "/signup/", {"username": "MARIA"}, HTTP_ACCEPT="application/json"
    )

    assert list(json.loads(refused(request).content)) == ["username"]


def test_other_exceptions_are_left_to_django():
    middleware = CaselessConflictMiddleware(lambda request: None)
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("no")) is None


def test_the_409_page_is_styled_and_laid_out_like_the_other_pages():
    page = refused(RequestFactory().post("/settings/", {"username": "MARIA"})).content.decode()

    assert '<nav aria-label="Main">' in page
    assert "<style>" in page


def refused_email(request):
    middleware = CaselessConflictMiddleware(lambda request: None)
    return middleware.process_exception(request, CaselessConflict("email", "ana@example.com"))


def test_the_409_page_does_not_tell_a_logged_in_person_to_log_in_to_the_other_account():
    request = RequestFactory().post("/settings/", {"email": "ana@example.com"})
    request.user = UserFactory()

    page = refused_email(request).content.decode()

    assert "Another account already uses this email address" in page
    assert "Log in to that account" not in page


def test_the_409_page_offers_a_logged_out_person_to_log_in_to_the_account_with_that_email():
    page = refused_email(RequestFactory().post("/signup/", {"email": "ana@example.com"}))

    assert "Log in to that account" in page.content.decode()
