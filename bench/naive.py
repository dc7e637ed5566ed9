"""The naive retrofit the benchmarks compare against: the widely copied ``username__iexact``.

This is the one place in the project where ``__iexact`` is allowed, and only as the thing we
measure ours against. Nothing outside ``bench/`` imports it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.validators import UniqueValidator

UserModel = get_user_model()


class IexactModelBackend(ModelBackend):
    """``ModelBackend`` finding the account with ``username__iexact``, as the copied snippet does."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            user = UserModel._default_manager.get(username__iexact=username)
        except (UserModel.DoesNotExist, UserModel.MultipleObjectsReturned):
            UserModel().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def naive_username_available(username):
    """The copied sign-up check for a username: ``username__iexact``."""
    return not UserModel._default_manager.filter(username__iexact=username).exists()


def naive_email_available(email):
    """The copied sign-up check for an email: ``email__iexact``."""
    return not UserModel._default_manager.filter(email__iexact=email).exists()


def exact_username_available(username):
    """The floor: the exact-case check Django's own forms make (``username=``)."""
    return not UserModel._default_manager.filter(username=username).exists()


def exact_email_available(email):
    """The floor for email: ``email=`` (``auth_user.email`` has no index in Django)."""
    return not UserModel._default_manager.filter(email=email).exists()


class SeedRegistrationSerializer(serializers.ModelSerializer):
    """A seed project's registration serializer: DRF's exact ``UniqueValidator`` on both fields,
    the site's password validators, an API token for the new account."""

    username = serializers.CharField(
        max_length=150, validators=[UniqueValidator(queryset=UserModel._default_manager.all())]
    )
    email = serializers.EmailField(
        validators=[UniqueValidator(queryset=UserModel._default_manager.all())]
    )
    password = serializers.CharField(write_only=True, validators=[validate_password])
    token = serializers.CharField(source="auth_token.key", read_only=True)

    class Meta:
        model = UserModel
        fields = ["id", "username", "email", "password", "token"]

    def create(self, validated_data):
        # The same work as ours apart from the uniqueness rule: the user, its token, one transaction.
        with transaction.atomic():
            user = UserModel._default_manager.create_user(**validated_data)
            Token.objects.create(user=user)
        return user
