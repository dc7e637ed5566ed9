"""The account pages, under the ``authfold`` URL namespace: ``include("authfold.accounts.urls")``."""

from django.contrib.auth import views as auth_views
from django.urls import path

from authfold.accounts import views

# Namespaced, so that a host's own "login" or "profile" URL names are never shadowed.
app_name = "authfold"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("email/confirm/<str:key>/", views.EmailConfirmView.as_view(), name="email_confirm"),
    path("email/resend/", views.EmailResendView.as_view(), name="email_resend"),
    path(
        "email/pending/cancel/",
        views.PendingEmailCancelView.as_view(),
        name="pending_email_cancel",
    ),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
