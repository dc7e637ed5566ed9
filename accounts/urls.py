"""The accounts pages: log in and out (more pages join as the write-path rules land)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.login import LoginForm

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
