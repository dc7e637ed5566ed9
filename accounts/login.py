"""The web login form: Django's ``AuthenticationForm``, worded for usernames that ignore case."""

from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from authfold.accounts.conf import authfold_setting

INVALID_LOGIN = _(
    "Please enter a correct username and password. Usernames ignore case; passwords do not."
)
INVALID_LOGIN_BY_EMAIL = _(
    "Please enter a correct username or email and password. "
    "Usernames and emails ignore case; passwords do not."
)
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
