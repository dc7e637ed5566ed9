"""API URLs, and the OpenAPI schema and interactive docs that describe them."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import auth, users

urlpatterns = [
    path("users/me/", users.CurrentUserView.as_view(), name="api-users-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", auth.TokenLoginView.as_view(), name="api-auth-token"),
    path("users/", users.RegistrationView.as_view(), name="api-users"),
]
