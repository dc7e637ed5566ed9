"""API URLs: sign-up, the current user, the token login and logout, the email confirmation.

Nothing here imports drf-spectacular's views, so a host can mount the API without
``drf_spectacular`` in ``INSTALLED_APPS``; the schema and its docs are in ``docs_urls``.
"""

from django.urls import path

from authfold.accounts.api import auth, email_confirmation, users

# Namespaced, so that the names never shadow a host's own.
app_name = "authfold_api"

urlpatterns = [
    path("users/me/", users.CurrentUserView.as_view(), name="users-me"),
    path(
        "users/me/email/resend/",
        users.EmailResendView.as_view(),
        name="users-me-email-resend",
    ),
    path("auth/token/", auth.TokenLoginView.as_view(), name="auth-token"),
    path("auth/logout/", auth.TokenLogoutView.as_view(), name="auth-logout"),
    path(
        "auth/email/confirm/",
        email_confirmation.EmailConfirmView.as_view(),
        name="auth-email-confirm",
    ),
    path("users/", users.RegistrationView.as_view(), name="users"),
]
