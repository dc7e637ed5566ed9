"""The host's own API: sign-up with its own serializer."""

from rest_framework import generics
from rest_framework.permissions import AllowAny

from accounts.serializers import UserSerializer


class UserCreateAPIView(generics.CreateAPIView):
    serializer_class = UserSerializer
    permission_classes = [AllowAny]
