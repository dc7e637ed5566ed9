"""A host whose own backend subclasses ``ModelBackend`` makes it caseless with
``CaselessLoginMixin`` placed before its class (docs/ADOPTING.md, step 3): any case of a username
and a renamed account's old username log in through it, and its own ``get_user`` still loads the
user of every request."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend

from authfold.backends import CaselessLoginMixin
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.test_renamed_login import renamed  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

CASELESS_FORUM_BACKEND = "tests.test_caseless_login_mixin.CaselessForumBackend"


class ForumBackend(ModelBackend):
    """A host's own backend: its ``get_user`` loads each request's user its own way."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        if user is not None:
            user.loaded_by = "the forum's get_user"
        return user


class CaselessForumBackend(CaselessLoginMixin, ForumBackend):
    """The forum's backend with authfold's login, as the runbook shows it."""


@pytest.fixture(autouse=True)
def forum_backend_only(settings):
    settings.AUTHENTICATION_BACKENDS = [CASELESS_FORUM_BACKEND]


def test_a_host_backend_with_the_mixin_logs_in_any_case_of_the_username():
    user = UserFactory(username="Maria")

    assert authenticate(request=None, username="mARIA", password=DEFAULT_PASSWORD) == user


def test_a_host_backend_with_the_mixin_keeps_its_own_get_user(client):
    UserFactory(username="Maria")
    assert client.login(username="MARIA", password=DEFAULT_PASSWORD)

    request_user = client.get("/").wsgi_request.user

    assert request_user.username == "Maria"
    assert request_user.loaded_by == "the forum's get_user"


def test_a_renamed_account_logs_in_by_its_old_username_through_a_host_backend_with_the_mixin(
    renamed,  # noqa: F811
):
    assert authenticate(request=None, username="Maria", password=DEFAULT_PASSWORD) == renamed
