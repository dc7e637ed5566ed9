"""The host without docs mounts only the API's own URLs."""

from django.urls import include, path

urlpatterns = [path("api/", include("authfold.accounts.api.urls"))]
