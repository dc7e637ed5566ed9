"""The host's URLs: its own pages and API, and django-authfold's pages and API beside them."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from accounts.api import UserCreateAPIView

urlpatterns = [
    path("", TemplateView.as_view(template_name="accounts/home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/users/", UserCreateAPIView.as_view(), name="api-user-create"),
    # authfold: its pages and its API, each under a prefix the host chose. The API docs and
    # schema (a separate module) are not mounted: this host does not use drf-spectacular.
    path("auth/", include("authfold.accounts.urls")),
    path("api/", include("authfold.accounts.api.urls")),
]
