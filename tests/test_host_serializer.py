"""A host's own DRF ModelSerializer on User: with ``authfold.accounts.api.exception_handler`` as
``EXCEPTION_HANDLER`` (the demo host sets it), a caseless twin refused on save is a 400 on the
field, with our serializers' message, never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rest_framework import generics, permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from authfold.accounts.api import exception_handler
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.validators import EMAIL_TAKEN, USERNAME_TAKEN, clean_new_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


class HostUserSerializer(serializers.ModelSerializer):
    """What a host project writes: DRF's UniqueValidator checks the exact spelling only."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "password"]
        extra_kwargs = {"password": {"write_only": True}}

    def create(self, validated_data):
        return User.objects.create_user(**validated_data)


class HostSignUp(generics.CreateAPIView):
    serializer_class = HostUserSerializer
    authentication_classes = []
    permission_classes = [permissions.AllowAny]


def post_host_sign_up(**data):
    request = APIRequestFactory().post("/host/users/", data, format="json")
    response = HostSignUp.as_view()(request)
    response.render()
    return response


def test_the_demo_host_uses_our_exception_handler():
    assert api_settings.EXCEPTION_HANDLER is exception_handler


@pytest.mark.parametrize(("existing", "typed"), [("maria", "MARIA"), ("Straße", "STRASSE")])
def test_host_serializer_answers_400_on_username_for_a_caseless_twin(existing, typed):
    UserFactory(username=existing)
    response = post_host_sign_up(username=typed, email="new@example.com", password="x" * 12)
    assert response.status_code == 400
    assert response.data == {"username": [USERNAME_TAKEN % {"username": typed}]}
    assert response.data["username"][0].code == "username_taken"
    assert User.objects.count() == 1


def test_host_serializer_still_creates_an_account_with_a_free_name():
    response = post_host_sign_up(username="maria", email="maria@example.com", password="x" * 12)
    assert response.status_code == 201
    assert User.objects.filter(username="maria").exists()


def test_exception_handler_reports_an_email_refusal_on_email():
    response = exception_handler(CaselessConflict("email", "maria@example.com"), {})
    assert response.status_code == 400
    assert response.data == {"email": [str(EMAIL_TAKEN)]}
    assert response.data["email"][0].code == "email_taken"


def test_exception_handler_quotes_the_submitted_name_when_the_refusal_has_none():
    request = APIRequestFactory().post("/", {"username": "MARIA"}, format="json")
    request = HostSignUp().initialize_request(request)
    response = exception_handler(CaselessConflict("username"), {"request": request})
    assert response.data == {"username": [USERNAME_TAKEN % {"username": "MARIA"}]}


def test_exception_handler_leaves_other_exceptions_to_drf():
    response = exception_handler(NotFound(), {})
    assert response.status_code == 404
    assert exception_handler(ValueError("a bug"), {}) is None


def test_exception_handler_rolls_back_an_atomic_request_like_drf():
    atomic_requests = connection.settings_dict["ATOMIC_REQUESTS"]
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        with transaction.atomic():
            exception_handler(CaselessConflict("username", "maria"), {})
            assert transaction.get_rollback()
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = atomic_requests


def test_host_serializer_answers_400_on_email_as_the_database_keeps_emails_unique():
    UserFactory(username="maria", email="maria@example.com")
    response = post_host_sign_up(username="pedro", email="MARIA@example.com", password="x" * 12)
    assert response.status_code == 400
    assert response.data == {"email": [str(EMAIL_TAKEN)]}
    assert not User.objects.filter(username="pedro").exists()


class HostUserSerializerWithEmailRule(HostUserSerializer):
    """The host's serializer with our email rule added, as docs/ENFORCEMENT.md advises."""

    def validate_email(self, value):
        return clean_new_email(value)


def test_host_serializer_without_our_email_rule_creates_an_account_with_a_blank_email():
    # Where the rule is not enforced: a blank email raises nothing on save (it claims no address),
    # so the exception handler has nothing to answer; docs/ENFORCEMENT.md says so.
    response = post_host_sign_up(username="pedro", email="", password="x" * 12)
    assert response.status_code == 201
    assert User.objects.get(username="pedro").email == ""


def test_host_serializer_with_clean_new_email_refuses_a_blank_email_with_400():
    request = APIRequestFactory().post(
        "/host/users/", {"username": "pedro", "email": "", "password": "x" * 12}, format="json"
    )
    view = HostSignUp.as_view(serializer_class=HostUserSerializerWithEmailRule)
    response = view(request)
    assert response.status_code == 400
    assert [error.code for error in response.data["email"]] == ["email_required"]
    assert not User.objects.filter(username="pedro").exists()
