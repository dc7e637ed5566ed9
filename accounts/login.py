"""The web login: Django's ``AuthenticationForm`` worded for usernames that ignore case, and the
notice a renamed person gets after logging in with their old username, on any login page."""

from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from authfold.accounts.conf import authfold_setting
from authfold.accounts.email_verification import confirmation_required_to_log_in
from authfold.accounts.signals import renamed_login
from authfold.backends.case_insensitive import (
    RENAMED_LOGIN_ATTRIBUTE,
    UNCONFIRMED_EMAIL_ATTRIBUTE,
)

INVALID_LOGIN = _(
    "Please enter a correct username and password. Usernames ignore case; passwords do not."
)
INVALID_LOGIN_BY_EMAIL = _(
    "Please enter a correct username or email and password. "
    "Usernames and emails ignore case; passwords do not."
)
# Told only where the answers may say whether an address exists (AUTHFOLD_PREVENT_ENUMERATION off).
EMAIL_UNCONFIRMED = _(
    "This email address is not confirmed yet: follow the link we mailed to it first. To get a "
    "new link, log in with your username and ask for one on your profile page."
)
# Added to the generic refusal where it must stay generic, while verification is mandatory.
UNCONFIRMED_HINT = _("If you signed up recently, confirm your email address first.")
EMAIL_MAX_LENGTH = 254  # EmailField's length, longer than a username's 150


class LoginForm(AuthenticationForm):
    """Same checks as Django's (the backends decide); the label and error match the setting."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.accepts_email = authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL")
        # A copy per form: error_messages is a class attribute shared with every AuthenticationForm.
        self.error_messages = {**self.error_messages, "invalid_login": INVALID_LOGIN}
        if self.accepts_email:
            username = self.fields["username"]
            username.label = _("Username or email")
            username.max_length = EMAIL_MAX_LENGTH
            username.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)
            self.error_messages["invalid_login"] = INVALID_LOGIN_BY_EMAIL
            if confirmation_required_to_log_in():
                self.error_messages["invalid_login"] = with_unconfirmed_hint(INVALID_LOGIN_BY_EMAIL)

    def get_invalid_login_error(self):
        if unconfirmed_email_login(self.request):
            return ValidationError(EMAIL_UNCONFIRMED, code="email_unconfirmed")
        return super().get_invalid_login_error()


def unconfirmed_email_login(request):
    """Whether the backend refused this request's login only because the address it named still
    waits for its confirmation link (and the answer may say so)."""
    return bool(getattr(request, UNCONFIRMED_EMAIL_ATTRIBUTE, False))


def with_unconfirmed_hint(message):
    """A generic login refusal, followed by :data:`UNCONFIRMED_HINT`."""
    return format_lazy("{} {}", message, UNCONFIRMED_HINT)


def tell_renamed_login(sender, request, user, **kwargs):
    """``user_logged_in`` receiver: a login by an old username leaves a warning with the new one,
    and sends :data:`~authfold.accounts.signals.renamed_login`.

    A signal rather than our login view, so the host's own login page and the admin's tell the
    person too (wherever their templates show ``messages``). Silent where the messages framework
    is not installed, and for logins the backend did not mark.
    """
    renamed = announce_renamed_login(request, user)
    if renamed is None or request is None:
        return
    messages.warning(request, renamed_login_message(renamed, user), fail_silently=True)


def announce_renamed_login(request, user):
    """Send :data:`~authfold.accounts.signals.renamed_login` if ``user`` logged in by an old
    username; returns that login's :class:`~authfold.backends.case_insensitive.RenamedLogin`
    (or ``None``)."""
    renamed = getattr(user, RENAMED_LOGIN_ATTRIBUTE, None)
    if renamed is not None:
        renamed_login.send(
            sender=type(user),
            request=request,
            user=user,
            old_username=renamed.old_username,
            works_until=renamed.works_until,
        )
    return renamed


def renamed_login_message(renamed, user):
    """What a person who logged in with their old username reads next: the name to use now."""
    until = renamed.works_until
    if timezone.is_aware(until):  # a naive date when the project has USE_TZ = False
        until = timezone.localtime(until)
    return _(
        "“%(old)s” is no longer your username: it is now “%(new)s”. Please log in with "
        "“%(new)s” from now on; “%(old)s” stops working on %(until)s."
    ) % {
        "old": renamed.old_username,
        "new": user.get_username(),
        "until": date_format(until),
    }
