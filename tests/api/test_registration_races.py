"""A sign-up or rename that passes validation and then loses the name to another account (the
database's unique key decides) answers 400 on the field, never a 500 ``IntegrityError``."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.serializers import CurrentUserSerializer, RegistrationSerializer
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()


@pytest.mark.django_db
def test_sign_up_that_loses_its_username_after_validation_is_refused_on_username():
    serializer = RegistrationSerializer(
        data={"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    )
    assert serializer.is_valid(), serializer.errors
    UserFactory(username="MARIA", email="other@example.com")
    with pytest.raises(serializers.ValidationError) as refusal:
        serializer.save()
    assert refusal.value.get_codes() == {"username": ["username_taken"]}
    assert list(User.objects.values_list("username", flat=True)) == ["MARIA"]
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_rename_that_loses_its_username_after_validation_is_refused_on_username():
    user = UserFactory(username="maria")
    serializer = CurrentUserSerializer(user, data={"username": "Straße"}, partial=True)
    assert serializer.is_valid(), serializer.errors
    UserFactory(username="STRASSE")
    with pytest.raises(serializers.ValidationError) as refusal:
        serializer.save()
    assert refusal.value.get_codes() == {"username": ["username_taken"]}
    assert User.objects.get(pk=user.pk).username == "maria"


@pytest.mark.django_db
def test_sign_up_that_loses_the_very_same_username_after_validation_is_refused_on_username():
    serializer = RegistrationSerializer(
        data={"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    )
    assert serializer.is_valid(), serializer.errors
    UserFactory(username="maria", email="other@example.com")
    with pytest.raises(serializers.ValidationError) as refusal:
        serializer.save()
    assert refusal.value.get_codes() == {"username": ["username_taken"]}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_rename_that_loses_the_very_same_username_after_validation_is_refused_on_username():
    user = UserFactory(username="maria")
    serializer = CurrentUserSerializer(user, data={"username": "john"}, partial=True)
    assert serializer.is_valid(), serializer.errors
    UserFactory(username="john")
    with pytest.raises(serializers.ValidationError) as refusal:
        serializer.save()
    assert refusal.value.get_codes() == {"username": ["username_taken"]}
    assert User.objects.get(pk=user.pk).username == "maria"


# "ＭＡＲＩＡ" is stored as "MARIA" (NFKC): two requests send the very same name, which
# auth_user's own unique index refuses before the caseless key does.
CASE_VARIANTS = ["maria", "Maria", "MARIA", "mAria", "maRIA", "ＭＡＲＩＡ"]


def sign_up_in_own_thread(number, username, start, answers):
    """One client in its own thread (so its own database connection) signing up at ``start``."""
    client = APIClient()
    client.raise_request_exception = False
    body = {"username": username, "email": f"racer{number}@example.com"}
    try:
        start.wait()
        response = client.post("/api/users/", {**body, "password": DEFAULT_PASSWORD}, format="json")
        answers.append(
            (response.status_code, response.json() if response.status_code < 500 else None)
        )
    finally:
        connection.close()


def test_concurrent_sign_ups_of_case_variants_create_exactly_one_account(transactional_db):
    start = threading.Barrier(len(CASE_VARIANTS))
    answers = []
    threads = [
        threading.Thread(target=sign_up_in_own_thread, args=(number, name, start, answers))
        for number, name in enumerate(CASE_VARIANTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [400] * (len(CASE_VARIANTS) - 1), answers
    assert all(set(body) == {"username"} for status, body in answers if status == 400), answers
    assert User.objects.count() == 1
    assert Token.objects.count() == 1
