"""The allauth host's URLs: allauth's account pages only."""

from django.urls import include, path

urlpatterns = [path("accounts/", include("allauth.urls"))]
