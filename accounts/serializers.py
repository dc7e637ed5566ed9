"""DRF serializers for accounts."""

from django.contrib.auth import get_user_model
from rest_framework import serializers


class UserSerializer(serializers.ModelSerializer):
    """The public view of an account: id, username, email."""

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email"]
        read_only_fields = ["id", "username", "email"]
