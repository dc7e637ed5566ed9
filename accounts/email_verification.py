"""Email verification: the signed link that proves an address, the change that waits for it, and
the notice that tells the old address.

``AUTHFOLD_EMAIL_VERIFICATION`` decides how far an address is trusted before its link is followed:
``"none"`` applies a change at once; ``"optional"`` keeps a changed address pending
(:class:`~authfold.accounts.models.PendingEmailChange`) until confirmed, and mails a sign-up's
address a link though it counts at once; ``"mandatory"`` also keeps a sign-up's address from
logging in until confirmed (:class:`~authfold.accounts.models.UnconfirmedEmail`); a password
reset through it confirms it, as following its link does. Accounts without a row count as
confirmed.

A key is ``django.core.signing`` over the account, the address, the moment its row was written and
a keyed digest of the account's password hash: it proves the mailbox, expires after
``AUTHFOLD_EMAIL_CONFIRMATION_DAYS``, and a later change (a new row) or a new password makes it
worthless; a password change also drops the pending change itself
(:mod:`authfold.accounts.password_changes`). Mails go out only once the transaction that decided
them commits.
"""

import calendar
import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authfold.accounts.caseless import email_key, table_ready
from authfold.accounts.conf import authfold_setting
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.mail_site import mail_site
from authfold.accounts.models import PendingEmailChange, UnconfirmedEmail
from authfold.accounts.throttling import AccountMailThrottle, take_mail_allowance
from authfold.accounts.token_revocation import digest_matches, password_digest
from authfold.accounts.user_model import form_user_model
from authfold.accounts.validators import EMAIL_TAKEN, validate_email_unclaimed

User = form_user_model()
logger = logging.getLogger("authfold.mail")

VERIFICATION_MODES = ("none", "optional", "mandatory")
SALT = "authfold.accounts.email_verification"
# The salt of the password digest a key carries: a digest made for keys is good for nothing else.
PASSWORD_SALT = "authfold.accounts.email_verification.password_digest"

KEY_INVALID = _(
    "This confirmation link is not valid: it was used already, a newer one replaced it, the "
    "account's password changed since it was sent, or it was copied incompletely."
)
KEY_EXPIRED = _(
    "This confirmation link has expired. Change your email address again to get a new one."
)
SIGNED_UP = _(
    "Your account is ready. We sent a link to %(email)s: follow it to confirm your address, then "
    "log in."
)
PASSWORD_REQUIRED = _("Enter your current password to change your email address.")
PASSWORD_INCORRECT = _("Your current password was entered incorrectly. Please enter it again.")
NOTHING_TO_CONFIRM = _("Your email address is confirmed already: there is no link to send.")
MAIL_LIMIT = _("Too many emails were sent for your account recently. Please try again later.")


def verification_mode():
    """The project's ``AUTHFOLD_EMAIL_VERIFICATION``; a misspelt value fails loudly, never open."""
    mode = authfold_setting("AUTHFOLD_EMAIL_VERIFICATION")
    if mode not in VERIFICATION_MODES:
        raise ImproperlyConfigured(
            f"AUTHFOLD_EMAIL_VERIFICATION must be one of {', '.join(VERIFICATION_MODES)}; "
            f"it is {mode!r}."
        )
    return mode


def enumeration_prevented():
    """Whether answers must not tell whether an address is taken (``AUTHFOLD_PREVENT_ENUMERATION``;
    by default, while verification is mandatory). Only while verification is on: without it a
    sign-up or change takes effect at once, which no answer to a taken address could imitate."""
    mode = verification_mode()
    prevent = authfold_setting("AUTHFOLD_PREVENT_ENUMERATION")
    return mode != "none" and (mode == "mandatory" if prevent is None else bool(prevent))


def confirmation_required_to_log_in():
    """Whether an unconfirmed sign-up address is kept from email login."""
    return verification_mode() == "mandatory"


def with_confirmed_email(users):
    """``users`` without the accounts whose address still waits for its confirmation, when
    verification is mandatory (and the table exists: code deployed before ``migrate``)."""
    if not confirmation_required_to_log_in() or not table_ready(UnconfirmedEmail, users.db):
        return users
    return users.filter(unconfirmed_email__isnull=True)


def unconfirmed_email(user):
    """``user``'s address while it waits for its confirmation link (its :class:`UnconfirmedEmail`
    row), else ``None``: accounts from before verification, and code deployed before
    ``migrate``, count as confirmed."""
    if user.pk is None or not table_ready(UnconfirmedEmail, user._state.db):
        return None
    rows = UnconfirmedEmail.objects.using(user._state.db).filter(user_id=user.pk)
    return rows.values_list("email", flat=True).first()


def email_confirmed(user):
    """Whether ``user``'s address counts as confirmed (see :func:`unconfirmed_email`)."""
    return unconfirmed_email(user) is None


def changes_email(old_email, new_email):
    """Whether a submitted address differs from the stored one (a blank one is never kept)."""
    return not old_email or new_email != old_email


# Keys.


def stamp(moment):
    """A row's write time as whole microseconds, the same before and after a database round trip."""
    return calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond


def confirmation_key(user, email, written_at):
    """The signed key that confirms ``email`` for ``user``, while its row is the one written at
    ``written_at`` and the account keeps its password."""
    bound = password_digest(user.password, salt=PASSWORD_SALT)
    return signing.dumps([user.pk, email, stamp(written_at), bound], salt=SALT, compress=True)


def read_key(key):
    """The account, address, stamp and password digest a key names; ``ValidationError`` for a
    bad or old key."""
    max_age = timedelta(days=authfold_setting("AUTHFOLD_EMAIL_CONFIRMATION_DAYS"))
    try:
        value = signing.loads(key, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ValidationError(KEY_EXPIRED, code="key_expired") from error
    except signing.BadSignature as error:
        raise ValidationError(KEY_INVALID, code="key_invalid") from error
    if not (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(part, str) for part in (value[1], value[3]))
        and all(isinstance(part, int) for part in (value[0], value[2]))
    ):
        raise ValidationError(KEY_INVALID, code="key_invalid")
    return value


# Changing, confirming.


def change_email(user, old_email, new_email, request, held_by_other=False):
    """Call inside the transaction that saves ``user``, whose ``email`` is now ``new_email``.

    When the change must wait for confirmation (a new mailbox, verification on), ``user.email``
    goes back to ``old_email`` and ``new_email`` is kept pending, its link mailed after commit;
    an address another account holds (``held_by_other``, under enumeration prevention) is kept
    pending the same way, but its mailbox is told of the attempt instead of sent a link.
    Otherwise the change stands, any older pending change is dropped and the old address is
    told after commit; a first address (a legacy account had none) is unconfirmed, as a
    sign-up's is. Returns the pending address, or ``None``.
    """
    if verification_mode() != "none" and old_email and email_key(new_email) != email_key(old_email):
        user.email = old_email
        pending, _created = PendingEmailChange.objects.update_or_create(
            user=user, defaults={"email": new_email, "requested_at": timezone.now()}
        )
        if held_by_other:
            tell_address_holder(new_email, request, user)
        else:
            key = confirmation_key(user, new_email, pending.requested_at)
            mail_after_commit(confirmation_mail(user, new_email, key, request), new_email, user)
        return new_email
    drop_pending_change(user.pk)
    if old_email:
        # Still the same mailbox (the keys are equal): an unconfirmed address stays unconfirmed.
        UnconfirmedEmail.objects.filter(user=user).update(email=new_email)
        notify_old_address(user, old_email, new_email, request)
    else:
        start_verification(user, request)
    return None


def start_verification(user, request):
    """For a new account (inside its sign-up's transaction): its address is unconfirmed until
    the link mailed to it (after commit) is followed. Nothing when verification is off."""
    if verification_mode() == "none" or not user.email:
        return
    row, _created = UnconfirmedEmail.objects.update_or_create(
        user=user, defaults={"email": user.email, "created_at": timezone.now()}
    )
    key = confirmation_key(user, user.email, row.created_at)
    mail_after_commit(confirmation_mail(user, user.email, key, request), user.email, user)


def resend_confirmation(user_pk, request):
    """Mails a new link for the account's pending change, else for its unconfirmed sign-up
    address, and returns the address; the row's new time makes every earlier link worthless.

    Locks the account's row first, as :func:`confirm_email` does, so the two never deadlock and
    the key is made with the password as stored. Raises ``ValidationError``
    (``nothing_to_confirm``) when no address waits for a link.
    """
    with transaction.atomic():
        user = User._default_manager.select_for_update().get(pk=user_pk)
        now = timezone.now()
        pending = PendingEmailChange.objects.select_for_update().filter(user=user).first()
        if pending is not None:
            pending.requested_at = now
            pending.save(update_fields=["requested_at"])
            address = pending.email
        else:
            unconfirmed = UnconfirmedEmail.objects.select_for_update().filter(user=user).first()
            if unconfirmed is None or not user.email:
                raise ValidationError(NOTHING_TO_CONFIRM, code="nothing_to_confirm")
            unconfirmed.created_at = now
            unconfirmed.save(update_fields=["created_at"])
            address = user.email
        key = confirmation_key(user, address, now)
        mail_after_commit(confirmation_mail(user, address, key, request), address, user)
    return address


def drop_pending_change(user_pk, using=None):
    """Cancel the account's pending email change, if any: its key confirms nothing after this."""
    PendingEmailChange.objects.using(using).filter(user_id=user_pk).delete()


def pending_email(user):
    """The address ``user`` asked to change to and has not confirmed yet, or ``None``."""
    return (
        PendingEmailChange.objects.filter(user_id=user.pk).values_list("email", flat=True).first()
    )


def confirm_email(key, request):
    """Makes the address a key names the account's confirmed email; returns the account.

    A pending change is saved through the account's ordinary ``save()``, so the database has the
    last word: an address another account took meanwhile is ``email_taken``, never a twin.
    Raises ``ValidationError`` (codes ``key_invalid``, ``key_expired``, ``email_taken``, ...).
    """
    user_pk, address, written, bound = read_key(key)
    with transaction.atomic():
        user = User._default_manager.select_for_update().filter(pk=user_pk).first()
        # A key sent before the password changed is the old password's: whoever asked for the
        # change may have held only that.
        if user is None or not digest_matches(bound, user.password, salt=PASSWORD_SALT):
            raise ValidationError(KEY_INVALID, code="key_invalid")
        pending = PendingEmailChange.objects.select_for_update().filter(user=user).first()
        if pending and pending.email == address and stamp(pending.requested_at) == written:
            return confirm_change(user, pending, request)
        unconfirmed = UnconfirmedEmail.objects.select_for_update().filter(user=user).first()
        if (
            unconfirmed
            and stamp(unconfirmed.created_at) == written
            and email_key(address) == email_key(user.email)
        ):
            unconfirmed.delete()
            return user
    raise ValidationError(KEY_INVALID, code="key_invalid")


def confirm_change(user, pending, request):
    """The pending address becomes the account's email (inside ``confirm_email``'s transaction)."""
    validate_email_unclaimed(pending.email, exclude_pk=user.pk)
    old_email, user.email = user.email, pending.email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except CaselessConflict as conflict:
        raise ValidationError(EMAIL_TAKEN, code="email_taken") from conflict
    pending.delete()
    # The link reached the new mailbox: confirmed.
    UnconfirmedEmail.objects.filter(user=user).delete()
    if old_email:
        notify_old_address(user, old_email, user.email, request)
    return user


def confirm_address_by_reset(user):
    """A password reset link followed: it reached the account's address, which is confirmed."""
    UnconfirmedEmail.objects.filter(user_id=user.pk, email=user.email).delete()


def stale_unconfirmed(using=None, now=None):
    """The unconfirmed sign-up addresses held longer than ``AUTHFOLD_EMAIL_CONFIRMATION_DAYS``
    (their links have expired), oldest first."""
    days = authfold_setting("AUTHFOLD_EMAIL_CONFIRMATION_DAYS")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (
        UnconfirmedEmail.objects.using(using).filter(created_at__lt=cutoff).order_by("created_at")
    )


def release_unconfirmed(row, using=None):
    """Free an unconfirmed address held too long: the account keeps its name and password and
    loses the address (its next profile change must add one), so the mailbox's owner can sign up
    with it. Under the account's lock; ``False`` when the row changed meanwhile (confirmed,
    replaced)."""
    with transaction.atomic(using=using):
        user = User._default_manager.using(using).select_for_update().filter(pk=row.user_id).first()
        held = UnconfirmedEmail.objects.using(using).filter(
            user_id=row.user_id, email=row.email, created_at=row.created_at
        )
        if user is None or not held.exists() or email_key(user.email) != email_key(row.email):
            return False
        user.email = ""
        user.save(update_fields=["email"])
        held.delete()
    return True


# Mails.


def site_context(request):
    """The site a mail names (``AUTHFOLD_SITE_URL`` when set, never the ``Host`` header then)."""
    return mail_site(request).context()


def confirmation_mail(user, email, key, request):
    """Subject and body of the mail that carries ``email``'s confirmation link."""
    context = {
        **site_context(request),
        "user": user,
        "email": email,
        "link": mail_site(request).url(reverse("authfold:email_confirm", args=[key])),
        "key": key,
        "days": authfold_setting("AUTHFOLD_EMAIL_CONFIRMATION_DAYS"),
    }
    return render_mail("authfold/email/email_confirmation", context)


def notify_old_address(user, old_email, new_email, request):
    """After commit, tells ``old_email`` that the account's address changed, when, and whom to
    contact if the change was not its owner's (a reset no longer reaches the old address)."""
    context = {
        **site_context(request),
        "user": user,
        "old_email": old_email,
        "new_email": new_email,
        "changed_at": timezone.now(),
        "support": authfold_setting("AUTHFOLD_SUPPORT_CONTACT") or settings.DEFAULT_FROM_EMAIL,
    }
    mail_after_commit(render_mail("authfold/email/email_changed", context), old_email, user)


def tell_address_holder(email, request, account=None):
    """After commit, tells ``email``'s mailbox that someone tried to use it here (a sign-up, or
    ``account``'s email change), and how to get in if it was its owner: the answer to that
    person said nothing of the address being taken (enumeration prevention)."""
    site = mail_site(request)
    context = {
        **site.context(),
        "email": email,
        "reset_link": site.url(reverse("authfold:password_reset")),
    }
    mail_after_commit(render_mail("authfold/email/address_in_use", context), email, account)


def render_mail(template_prefix, context):
    subject = render_to_string(f"{template_prefix}_subject.txt", context)
    # A header holds one line.
    subject = " ".join(subject.splitlines()).strip()
    return subject, render_to_string(f"{template_prefix}_body.txt", context)


def mail_after_commit(mail, recipient, account=None):
    """Sends ``(subject, body)`` to ``recipient`` once the current transaction commits (at once
    outside one): a change rolled back mails nobody. Every mail ``account``'s requests cause
    passes here, under the caps of :func:`~authfold.accounts.throttling.take_mail_allowance`:
    beyond them it is not sent, and the request answers as it would have."""
    subject, body = mail

    def send_within_caps():
        if take_mail_allowance(recipient, account):
            send_mail(subject, body, None, [recipient])
        else:
            logger.warning("Mail not sent: the mail caps of the account or address are reached.")

    transaction.on_commit(send_within_caps)


def account_may_cause_mail(user):
    """Whether ``user``'s requests may cause another mail now (scope ``email_mail``; counts
    nothing): a change that would mail beyond it is refused up front, so nobody waits for a link
    that never comes."""
    return AccountMailThrottle(user).allows_another_try()
