"""The account pages: sign-up, profile, password change and the password-reset flow.

Views stay thin: the forms carry the rule. What the views add is the one case a form cannot see,
a save that loses a race (the check passed, then another account took the name before the insert):
the database refuses it, and the page shows that as an error on the field, never a 500.
"""

from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, TemplateView, UpdateView, View

from authfold.accounts.account_updates import update_account
from authfold.accounts.conf import SIGNUP_CLOSED, authfold_setting
from authfold.accounts.email_verification import (
    KEY_INVALID,
    SIGNED_UP,
    confirm_email,
    drop_pending_change,
    email_confirmed,
    enumeration_prevented,
    pending_email,
    read_key,
    resend_confirmation,
    start_verification,
    tell_address_holder,
    unconfirmed_email,
    verification_mode,
)
from authfold.accounts.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    SetPasswordForm,
    SignUpForm,
)
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.login import LoginForm
from authfold.accounts.throttling import (
    FailedLoginThrottle,
    ScopedRateThrottle,
    SignUpThrottle,
    retry_after,
)

# Up to this many seconds the 429 page counts seconds; beyond, about how many minutes.
SECONDS_SHOWN_AS_SECONDS = 90

LINK_MAILED = _(
    "We mailed a link to %(email)s: follow it to confirm your email address. No mail? Ask for a "
    "new link on your profile page."
)
LINK_RESENT = _("We mailed a new link to %(email)s; the earlier links no longer work.")


def too_many_requests(request, seconds):
    """The 429 page, with ``Retry-After``: what a throttled form post gets instead of its page."""
    context = {"retry_after": seconds}
    if seconds > SECONDS_SHOWN_AS_SECONDS:
        context["retry_after_minutes"] = round(seconds / 60)
    response = render(request, "authfold/throttled.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class ThrottledPostMixin:
    """Counts the page's form posts in the API's ``throttle_scope`` (the same throttle, rates and
    client address as the API); beyond the rate, a post gets the 429 page. Showing the page is free."""

    throttle_scope = None

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            throttle = ScopedRateThrottle()
            if not throttle.allow_request(request, self):
                return too_many_requests(request, retry_after(throttle))
        return super().dispatch(request, *args, **kwargs)


class SaveOrReportConflictMixin:
    """``form_valid`` that saves in one transaction and turns the database's refusal of a caseless
    twin (``CaselessConflict``) into an error on the form's field."""

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.object = self.save(form)
        except CaselessConflict as conflict:
            return self.conflict_lost(form, conflict)
        return self.after_save(form)

    def conflict_lost(self, form, conflict):
        """The page for a save the database refused: the error on its field."""
        form.add_conflict_error(conflict)
        return self.form_invalid(form)

    def save(self, form):
        """Inside the transaction: what the page writes (by default, the form's ``save()``)."""
        return form.save()

    def after_save(self, form):
        return HttpResponseRedirect(self.get_success_url())


class SignUpView(ThrottledPostMixin, SaveOrReportConflictMixin, CreateView):
    """``/accounts/signup/``: creates the account and logs the new person in (under enumeration
    prevention, sends them to log in: see ``answer_as_signed_up``); 403 while
    ``AUTHFOLD_SIGNUP_OPEN`` is off. Throttled per client address: posts (scope
    ``register_attempt``) and accounts created (scope ``register``)."""

    throttle_scope = "register_attempt"
    form_class = SignUpForm
    template_name = "authfold/signup.html"
    success_url = reverse_lazy("authfold:profile")

    def dispatch(self, request, *args, **kwargs):
        if not authfold_setting("AUTHFOLD_SIGNUP_OPEN"):
            raise PermissionDenied(SIGNUP_CLOSED)
        if request.user.is_authenticated:
            return redirect("authfold:profile")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.sign_ups = SignUpThrottle(request)
        if not self.sign_ups.allows_another_try():
            return too_many_requests(request, retry_after(self.sign_ups))
        return super().post(request, *args, **kwargs)

    def save(self, form):
        if form.address_held:
            tell_address_holder(form.cleaned_data["email"], self.request)
            return None
        user = form.save()
        start_verification(user, self.request)
        return user

    def conflict_lost(self, form, conflict):
        if conflict.field == "email" and enumeration_prevented():
            tell_address_holder(form.cleaned_data["email"], self.request)
            self.sign_ups.record()
            return self.answer_as_signed_up(form)
        return super().conflict_lost(form, conflict)

    def answer_as_signed_up(self, form):
        """What every sign-up gets under enumeration prevention, whether its address was free
        (the account is made) or another account's (nothing is, and its mailbox is told)."""
        messages.success(self.request, SIGNED_UP % {"email": form.cleaned_data["email"]})
        return redirect("authfold:login")

    def after_save(self, form):
        self.sign_ups.record()
        if enumeration_prevented():
            return self.answer_as_signed_up(form)
        # authenticate() rather than login(user): it sets the backend, whichever the project uses.
        user = authenticate(
            self.request,
            username=self.object.get_username(),
            password=form.cleaned_data["password1"],
        )
        if user is None:
            messages.success(self.request, _("Your account is ready. Please log in."))
            self.tell_link_mailed()
            return redirect("authfold:login")
        login(self.request, user)
        messages.success(self.request, _("Welcome, %(username)s!") % {"username": user})
        self.tell_link_mailed()
        return HttpResponseRedirect(self.get_success_url())

    def tell_link_mailed(self):
        """Under verification, the new person learns their address waits for its link."""
        if not email_confirmed(self.object):
            messages.info(self.request, LINK_MAILED % {"email": self.object.email})


class ProfileView(LoginRequiredMixin, ThrottledPostMixin, SaveOrReportConflictMixin, UpdateView):
    """``/accounts/profile/``: the signed-in person edits their username, email and name.

    Posts are throttled per account in the API's scope (``profile``), with ``PATCH
    /api/users/me/``: each answer tells whether an address or name is taken, and whether a
    ``current_password`` was right."""

    throttle_scope = "profile"
    form_class = ProfileForm
    template_name = "authfold/profile.html"
    success_url = reverse_lazy("authfold:profile")

    def get_object(self, queryset=None):
        # A fresh copy: a refused form fills its instance with the refused values, and the page
        # header shows request.user, which must keep showing the name the account really has.
        return get_user_model()._default_manager.get(pk=self.request.user.pk)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "pending_email": pending_email(self.object),
            "unconfirmed_email": unconfirmed_email(self.object),
            "verification_on": verification_mode() != "none",
        }

    def save(self, form):
        # Only what the person changed on the page, onto the row as stored now: another request
        # (a confirmation link, another tab) may have changed the rest since the page was loaded.
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in form._meta.fields
        }
        user, self.pending_email = update_account(
            self.request.user.pk, changes, self.request, address_held=form.address_held
        )
        return user

    def after_save(self, form):
        if self.pending_email:
            messages.success(
                self.request,
                _(
                    "Your profile is saved. We sent a link to %(email)s: your email address "
                    "changes when you follow it."
                )
                % {"email": self.pending_email},
            )
        else:
            messages.success(self.request, _("Your profile is saved."))
        return HttpResponseRedirect(self.get_success_url())


class PendingEmailCancelView(LoginRequiredMixin, View):
    """``/accounts/email/pending/cancel/`` (POST): the signed-in person cancels their pending
    email change; its link confirms nothing afterwards."""

    http_method_names = ["post"]

    def post(self, request):
        drop_pending_change(request.user.pk)
        messages.success(request, _("The email change is cancelled; your address stays as it was."))
        return redirect("authfold:profile")


class EmailResendView(LoginRequiredMixin, ThrottledPostMixin, View):
    """``/accounts/email/resend/`` (POST): mails a new link for the pending change, else for the
    unconfirmed address; earlier links stop working. Throttled per account (scope
    ``email_resend``: one every three minutes unless the project sets a rate)."""

    http_method_names = ["post"]
    throttle_scope = "email_resend"

    def post(self, request):
        try:
            address = resend_confirmation(request.user.pk, request)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, LINK_RESENT % {"email": address})
        return redirect("authfold:profile")


class EmailConfirmView(ThrottledPostMixin, TemplateView):
    """``/accounts/email/confirm/<key>/``: the link of a confirmation mail. Showing it changes
    nothing (mail scanners open links); its button confirms. No login needed: the key is the
    proof. Posts throttled per client address (scope ``email_confirm``)."""

    throttle_scope = "email_confirm"
    template_name = "authfold/email_confirm.html"

    def get(self, request, key):
        try:
            user_pk, address, _written, _bound = read_key(key)
        except ValidationError as error:
            return self.refused(error)
        username = (
            get_user_model()
            ._default_manager.filter(pk=user_pk)
            .values_list(get_user_model().USERNAME_FIELD, flat=True)
            .first()
        )
        if username is None:
            return self.refused(ValidationError(KEY_INVALID, code="key_invalid"))
        context = self.get_context_data(
            email=address, username=username, someone_else_signed_in=self.someone_else(user_pk)
        )
        return self.render_to_response(context)

    def post(self, request, key):
        try:
            user = confirm_email(key, request)
        except ValidationError as error:
            return self.refused(error)
        # Named, never "your": whoever follows the link may be signed in as someone else.
        messages.success(
            request,
            _("%(email)s is now the confirmed email address of the account “%(username)s”.")
            % {"email": user.email, "username": user.get_username()},
        )
        if request.user.is_authenticated and request.user.pk == user.pk:
            return redirect("authfold:profile")
        # Anonymous, or signed in as another account: the login page, to sign in as this one.
        return redirect("authfold:login")

    def someone_else(self, user_pk):
        """Whether the person is signed in as another account than the one the key is for."""
        return self.request.user.is_authenticated and self.request.user.pk != user_pk

    def refused(self, error):
        """The page again, with why the key did not confirm anything (400)."""
        context = self.get_context_data(
            errors=error.messages, codes=[e.code for e in error.error_list]
        )
        return self.render_to_response(context, status=400)


class LoginView(ThrottledPostMixin, auth_views.LoginView):
    """``/accounts/login/``: Django's view with the caseless wording (the backends decide).

    Posts are throttled per client address (scope ``login``); a login the backend refused for too
    many failures on the account (scope ``login_account``) gets the 429 page too.
    A person who logged in with the old username conflict resolution took away is told their new
    one on the next page, here as on any login page (:func:`~authfold.accounts.login.tell_renamed_login`).
    """

    throttle_scope = "login"
    authentication_form = LoginForm
    template_name = "authfold/login.html"

    def form_invalid(self, form):
        seconds = getattr(self.request, FailedLoginThrottle.REFUSED_ATTRIBUTE, None)
        if seconds is not None:
            return too_many_requests(self.request, seconds)
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """``/accounts/password/change/``: Django's view, our template."""

    form_class = PasswordChangeForm
    template_name = "authfold/password_change_form.html"
    success_url = reverse_lazy("authfold:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "authfold/password_change_done.html"


class PasswordResetView(ThrottledPostMixin, auth_views.PasswordResetView):
    """``/accounts/password/reset/``: finds the account by its email in any case (our form).
    Posts throttled per client address (scope ``password_reset``): each one can send a mail."""

    throttle_scope = "password_reset"
    form_class = PasswordResetForm
    template_name = "authfold/password_reset_form.html"
    subject_template_name = "authfold/email/password_reset_subject.txt"
    email_template_name = "authfold/email/password_reset_body.txt"
    success_url = reverse_lazy("authfold:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "authfold/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "authfold/password_reset_confirm.html"
    success_url = reverse_lazy("authfold:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "authfold/password_reset_complete.html"
