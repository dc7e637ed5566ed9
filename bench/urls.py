"""The demo host's URLs plus the seed-style registration endpoint the benchmarks compare with."""

from django.urls import path
from rest_framework import generics, permissions

from bench.naive import SeedRegistrationSerializer
from mysite.urls import urlpatterns as host_urlpatterns


class SeedRegistrationView(generics.CreateAPIView):
    """A seed project's ``POST /register/``: create the user, exact uniqueness checks only."""

    serializer_class = SeedRegistrationSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []


urlpatterns = [
    *host_urlpatterns,
    path("bench/seed-register/", SeedRegistrationView.as_view(), name="bench-seed-register"),
]
