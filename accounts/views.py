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
    confirm_email,
    drop_pending_change,
    pending_email,
    read_key,
    start_verification,
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
from authfold.accounts.throttling import FailedLoginThrottle, ScopedRateThrottle, retry_after


def too_many_requests(request, seconds):
    """The 429 page, with ``Retry-After``: what a throttled form post gets instead of its page."""
    response = render(request, "authfold/throttled.html", {"retry_after": seconds}, status=429)
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
            form.add_conflict_error(conflict)
            return self.form_invalid(form)
        return self.after_save(form)

    def save(self, form):
        """Inside the transaction: what the page writes (by default, the form's ``save()``)."""
        return form.save()

    def after_save(self, form):
        return HttpResponseRedirect(self.get_success_url())


class SignUpView(ThrottledPostMixin, SaveOrReportConflictMixin, CreateView):
    """``/accounts/signup/``: creates the account and logs the new person in; 403 while
    ``AUTHFOLD_SIGNUP_OPEN`` is off. Posts throttled per client address (scope ``register``)."""

    throttle_scope = "register"
    form_class = SignUpForm
    template_name = "authfold/signup.html"
    success_url = reverse_lazy("authfold:profile")

    def dispatch(self, request, *args, **kwargs):
        if not authfold_setting("AUTHFOLD_SIGNUP_OPEN"):
            raise PermissionDenied(SIGNUP_CLOSED)
        if request.user.is_authenticated:
            return redirect("authfold:profile")
        return super().dispatch(request, *args, **kwargs)

    def save(self, form):
        user = form.save()
        start_verification(user, self.request)
        return user

    def after_save(self, form):
        # authenticate() rather than login(user): it sets the backend, whichever the project uses.
        user = authenticate(
            self.request,
            username=self.object.get_username(),
            password=form.cleaned_data["password1"],
        )
        if user is None:
            messages.success(self.request, _("Your account is ready. Please log in."))
            return redirect("authfold:login")
        login(self.request, user)
        messages.success(self.request, _("Welcome, %(username)s!") % {"username": user})
        return HttpResponseRedirect(self.get_success_url())


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
        return {**super().get_context_data(**kwargs), "pending_email": pending_email(self.object)}

    def save(self, form):
        # Only what the person changed on the page, onto the row as stored now: another request
        # (a confirmation link, another tab) may have changed the rest since the page was loaded.
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in form._meta.fields
        }
        user, self.pending_email = update_account(self.request.user.pk, changes, self.request)
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


class EmailConfirmView(ThrottledPostMixin, TemplateView):
    """``/accounts/email/confirm/<key>/``: the link of a confirmation mail. Showing it changes
    nothing (mail scanners open links); its button confirms. No login needed: the key is the
    proof. Posts throttled per client address (scope ``email_confirm``)."""

    throttle_scope = "email_confirm"
    template_name = "authfold/email_confirm.html"

    def get(self, request, key):
        try:
            _user_pk, address, _written, _bound = read_key(key)
        except ValidationError as error:
            return self.refused(error)
        return self.render_to_response(self.get_context_data(email=address))

    def post(self, request, key):
        try:
            user = confirm_email(key, request)
        except ValidationError as error:
            return self.refused(error)
        messages.success(
            request, _("%(email)s is now your confirmed email address.") % {"email": user.email}
        )
        if request.user.is_authenticated:
            return redirect("authfold:profile")
        return redirect("authfold:login")

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
