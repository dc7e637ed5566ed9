"""The web forms that create or change an account: sign-up, profile, the admin's, password reset.

They only compose the rule in :mod:`authfold.accounts.validators` (``clean_new_username``,
``clean_new_email``); none compares usernames or emails itself. Django's ``UserCreationForm`` and
``PasswordResetForm`` ask the database ``__iexact``, which disagrees with our definition of "the
same" (``ß``, ``İ``, non-ASCII text on SQLite), so these forms build on the classes below them
(``BaseUserCreationForm``, ``ModelForm``) and replace ``get_users``.
"""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from authfold.accounts.caseless import idna_2008_address, users_with_email
from authfold.accounts.conf import authfold_setting
from authfold.accounts.email_verification import (
    MAIL_LIMIT,
    PASSWORD_INCORRECT,
    PASSWORD_REQUIRED,
    account_may_cause_mail,
    changes_email,
    confirm_address_by_reset,
    enumeration_prevented,
)
from authfold.accounts.mail_site import configured_mail_site
from authfold.accounts.throttling import take_mail_allowance
from authfold.accounts.user_model import form_user_model
from authfold.accounts.validators import (
    OVER_LENGTH_CODES,
    address_held_by_other,
    clean_new_email,
    clean_new_username,
    conflict_error,
    validate_username_not_an_address,
)

# The model the key table is for (see form_user_model), not whatever AUTH_USER_MODEL a test has
# swapped in when this module is first imported.
User = form_user_model()

USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


def username_field():
    """The username input: no length validator of its own, so a long name is refused by
    ``clean_new_username`` with its own code (``username_too_long``); the browser still caps it."""
    return auth_forms.UsernameField(
        label=_("Username"),
        help_text=_(
            "Letters, digits and @ . + - _ only. Case does not matter when you log in: "
            "“Maria” and “maria” are the same account."
        ),
        widget=forms.TextInput(attrs={"maxlength": USERNAME_MAX_LENGTH, "required": True}),
    )


def email_field():
    """The email input: optional to the form field, so a blank address reaches ``clean_new_email``
    and is refused there with its own code (``email_required``); marked required for the browser."""
    return forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "required": True}),
    )


class AccessibleFormMixin:
    """Renders through ``authfold/form.html``: labels, help text and each field's error list tied
    to its input with ``aria-describedby`` and ``aria-invalid`` on every supported Django version
    (5.2 does it itself, 4.2 does not)."""

    template_name = "authfold/form.html"

    def get_context(self):
        for name, field in self.fields.items():
            bound = self[name]
            if bound.is_hidden or not bound.auto_id:
                continue
            attrs = field.widget.attrs
            described_by = [f"{bound.auto_id}_helptext"] if bound.help_text else []
            if bound.errors:
                described_by.append(f"{bound.auto_id}_error")
                attrs["aria-invalid"] = "true"
            else:
                attrs.pop("aria-invalid", None)
            if described_by:
                attrs["aria-describedby"] = " ".join(described_by)
            else:
                attrs.pop("aria-describedby", None)
        return super().get_context()


class CaselessIdentityMixin:
    """``clean_username`` and ``clean_email`` through the one rule, and the form error for a save
    the database refused because another account took the name or address meanwhile."""

    #: Set (by the admin) to the CaselessConflict of an earlier, refused save of the same data.
    lost_race = None
    #: Whether, under enumeration prevention, an address another account holds is left for the
    #: view to answer as a free one (``address_held`` is then set) rather than refused here.
    quiet_about_held_addresses = False
    address_held = False

    def clean_username(self):
        username = self.cleaned_data["username"]
        if not self.keeps_stored_value("username", username):
            username = clean_new_username(username, exclude_pk=self.instance.pk)
        return self.then_own_clean("username", username)

    def clean_email(self):
        email = self.cleaned_data["email"]
        if not (email and self.keeps_stored_value("email", email)):
            email = self.clean_new_email(email)
        return self.then_own_clean("email", email)

    def clean_new_email(self, email):
        if not (self.quiet_about_held_addresses and enumeration_prevented()):
            return clean_new_email(email, exclude_pk=self.instance.pk)
        email = clean_new_email(email, exclude_pk=self.instance.pk, unclaimed=False)
        self.address_held = address_held_by_other(email, exclude_pk=self.instance.pk)
        return email

    def _get_validation_exclusions(self):
        # A held address let through (quiet_about_held_addresses) must not be refused by the
        # model's own validation either (the identity rule on validate_unique).
        exclude = super()._get_validation_exclusions()
        if self.address_held:
            exclude.add("email")
        return exclude

    def then_own_clean(self, field, value):
        """The value after the form's own ``clean_<field>`` too, when the class we are mixed into
        has one (a host's admin form composed by ``CaselessUserAdminMixin`` keeps its rules)."""
        own_clean = getattr(super(), f"clean_{field}", None)
        if own_clean is None:
            return value
        self.cleaned_data[field] = value
        return own_clean()

    def keeps_stored_value(self, field, value):
        """Whether an existing account submits, unchanged, the value it already has.

        The rule is for new and changed values: a legacy address shared with another account, or
        a name reserved since (the site's own ``admin``), must not stop its owner from editing the
        rest of the account. A blank email is never kept: every saved account gets an address.
        (The model still checks a kept username's characters, as Django's own forms do.)
        """
        return self.instance.pk is not None and value == getattr(self.instance, field)

    def clean(self):
        cleaned_data = super().clean()
        username = cleaned_data.get("username")
        if username and not self.keeps_stored_value("username", username):
            own_email = cleaned_data.get("email", getattr(self.instance, "email", ""))
            try:
                validate_username_not_an_address(username, own_email)
            except ValidationError as error:
                self.add_error("username", error)
        if self.lost_race is not None:
            self.add_conflict_error(self.lost_race)
        return cleaned_data

    def add_conflict_error(self, conflict):
        """Report an ``authfold.accounts.keys.CaselessConflict`` on its field, as the check would have."""
        self.add_error(None, conflict_error(conflict, self.data.get("username")))


class SignUpForm(AccessibleFormMixin, CaselessIdentityMixin, auth_forms.BaseUserCreationForm):
    """A new account: username, email, and a password typed twice.

    ``BaseUserCreationForm`` checks the password with ``validate_password`` against the unsaved
    user (username and email already set on it), so the similarity validator sees them.
    """

    username = username_field()
    email = email_field()
    quiet_about_held_addresses = True

    class Meta(auth_forms.BaseUserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean(self):
        cleaned_data = super().clean()
        if self.identity_over_length():
            # Refused on that alone: without "password2", Django's _post_clean runs no password
            # validator, which would only spend time on megabytes of name (every Django version).
            cleaned_data.pop("password2", None)
        return cleaned_data

    def identity_over_length(self):
        """Whether the username or email was refused for its length."""
        return any(
            self.has_error(field, code)
            for field in ("username", "email")
            for code in OVER_LENGTH_CODES
        )


class ProfileForm(AccessibleFormMixin, CaselessIdentityMixin, forms.ModelForm):
    """The signed-in person's own account: username (a new case of their own name is fine),
    email, first and last name. A new email needs the current password (a session left open
    must not move the account's password resets to another mailbox)."""

    username = username_field()
    email = email_field()
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only when you change your email address."),
    )
    field_order = ["username", "email", "current_password", "first_name", "last_name"]
    quiet_about_held_addresses = True

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email is not None and changes_email(self.initial.get("email"), email):
            self.check_current_password(cleaned_data.get("current_password"))
            if not self.has_error("current_password") and not account_may_cause_mail(self.instance):
                self.add_error("email", ValidationError(MAIL_LIMIT, code="mail_limit"))
        return cleaned_data

    def check_current_password(self, password):
        """A missing or wrong password is an error on its field (``password_required``,
        ``password_incorrect``), and the form saves nothing."""
        if not password:
            error = ValidationError(PASSWORD_REQUIRED, code="password_required")
        elif not self.instance.check_password(password):
            error = ValidationError(PASSWORD_INCORRECT, code="password_incorrect")
        else:
            return
        self.add_error("current_password", error)


class UserAddForm(SignUpForm):
    """The admin's "Add user" form: the sign-up form's fields and rules (staff are told plainly
    when an address is taken)."""

    quiet_about_held_addresses = False


class UserChangeForm(CaselessIdentityMixin, auth_forms.UserChangeForm):
    """The admin's "Change user" form: Django's, with username and email under the rule."""

    username = username_field()
    email = email_field()


class PasswordResetForm(AccessibleFormMixin, auth_forms.PasswordResetForm):
    """Finds the account by the caseless email key, never by the database's ``__iexact``.

    With ``AUTHFOLD_FIRST_PASSWORD_BY_RESET`` on, active accounts without a usable password get
    the link too, so they can set a first one. The mail goes to the address the account has, not
    to what was typed (the fix for CVE-2019-19844 in Django's own form). A pending address is
    nobody's. An unconfirmed one gets the link, as allauth sends it: following it proves the
    mailbox (:class:`SetPasswordForm`), so an address someone else signed up with never keeps
    its owner out.
    """

    def save(self, domain_override=None, use_https=False, **kwargs):
        """With ``AUTHFOLD_SITE_URL`` set, the link is built on it, never on the request's
        ``Host`` header (whose port ``ALLOWED_HOSTS`` does not check)."""
        site = configured_mail_site()
        if domain_override is None and site is not None:
            domain_override, use_https = site.domain, site.protocol == "https"
        return super().save(domain_override=domain_override, use_https=use_https, **kwargs)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """To the mailbox the address is keyed by: a stored ``faß.de`` address (kept from before
        such domains were refused) goes to ``xn--fa-hia.de``, not where Django's mailer (IDNA
        2003) would send it, ``fass.de``, another domain. Not at all beyond the address's mail
        cap (scope ``email_destination``); the page says the same either way."""
        if not take_mail_allowance(to_email):
            return
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            idna_2008_address(to_email),
            html_email_template_name=html_email_template_name,
        )

    def get_users(self, email):
        active_users = User._default_manager.filter(is_active=True)
        first_password = authfold_setting("AUTHFOLD_FIRST_PASSWORD_BY_RESET")
        return (
            user
            for user in users_with_email(active_users, email)
            if first_password or user.has_usable_password()
        )


class SetPasswordForm(AccessibleFormMixin, auth_forms.SetPasswordForm):
    """Django's form for the new password at the end of a reset, rendered accessibly.

    The reset link was mailed to the account's address (Django's token covers the address), so
    following it confirms that address.
    """

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            confirm_address_by_reset(user)
        return user


class PasswordChangeForm(AccessibleFormMixin, auth_forms.PasswordChangeForm):
    """Django's form to change one's password, rendered accessibly."""
