"""URLs of the demo and test host: the admin, the accounts pages, the API and its docs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="authfold/home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("authfold.accounts.urls")),
    path("api/", include("authfold.accounts.api.urls")),
    path("api/", include("authfold.accounts.api.docs_urls")),
]
