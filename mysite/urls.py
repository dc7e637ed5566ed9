"""URLs of the demo and test host: the admin, the accounts pages, the API and its docs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from mysite.demo import DEMO_PASSWORD, MAIL, REFUSED_SIGNUPS, SUGGESTED_LOGINS

# The home page says what to try, in the words the demo's banner uses (mysite/demo.py).
home = TemplateView.as_view(
    template_name="authfold/home.html",
    extra_context={
        "suggested_logins": SUGGESTED_LOGINS,
        "demo_password": DEMO_PASSWORD,
        "refused_signups": REFUSED_SIGNUPS,
        "demo_mail": MAIL,
    },
)

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("authfold.accounts.urls")),
    path("api/", include("authfold.accounts.api.urls")),
    path("api/", include("authfold.accounts.api.docs_urls")),
]
