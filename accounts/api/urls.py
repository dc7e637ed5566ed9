"""API URLs, and the OpenAPI schema and interactive docs that describe them."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from authfold.accounts.api import auth, users

# Namespaced, so that the names never shadow a host's own.
app_name = "authfold_api"

urlpatterns = [
    path("users/me/", users.CurrentUserView.as_view(), name="users-me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="authfold_api:schema"), name="docs"),
    path("auth/token/", auth.TokenLoginView.as_view(), name="auth-token"),
    path("users/", users.RegistrationView.as_view(), name="users"),
]
