"""API views for accounts: the current user."""

from rest_framework import generics, permissions

from accounts.serializers import UserSerializer


class CurrentUserView(generics.RetrieveAPIView):
    """``/api/users/me/``: the authenticated account."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self):
        return self.request.user
