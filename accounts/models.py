"""What django-authfold keeps beside ``auth_user``: the claimed identifiers, the caseless keys and
the log of renames.

``auth.User`` itself is neither swapped nor altered.
"""

from django.conf import settings
from django.db import models

from authfold.accounts.caseless import normalize_username, table_ready
from authfold.accounts.conf import renamed_login_period


class CaselessKey(models.Model):
    """One user's username, email and skeleton digests (see :mod:`authfold.accounts.caseless`), one
    row per user, for the audit, the engine and the look-alike check to read and join.

    Which account may hold a name is decided by :class:`IdentifierClaim`; this row follows it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="caseless_key",
    )
    username_digest = models.CharField(max_length=64, db_index=True)
    email_digest = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    # The email digest again, unique: every account claims its address except the extras of a
    # group that already shared one before migration 0007 (grandfathered: NULL here, their
    # email_digest kept). A newcomer's claim collides with the group's one holder.
    email_claim = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # What the username looks like (caseless.username_skeleton): indexed, never unique, since
    # look-alike accounts may already exist. Null only until migration 0006 has filled it.
    skeleton_digest = models.CharField(max_length=64, null=True, blank=True)
    # The exact username and email the digests were computed from: the audit trusts a row whose
    # texts are still its user's with one join, and computes keys only for the others (written
    # around save(), or null: a row no save has written since migration 0014 and that did not
    # match its user then).
    username_source = models.TextField(null=True, blank=True)
    email_source = models.TextField(null=True, blank=True)

    class Meta:
        verbose_name = "caseless key"
        constraints = [
            # Built by migration 0003, after 0002 has resolved the legacy twins.
            models.UniqueConstraint(
                fields=["username_digest"], name="authfold_caselesskey_username_digest_unique"
            ),
        ]
        indexes = [
            # The look-alike check probes it (validators.validate_username_not_lookalike).
            models.Index(fields=["skeleton_digest"], name="authfold_key_skeleton_digest"),
        ]

    def __str__(self):
        return f"caseless key of user {self.user_id}"


class IdentifierClaim(models.Model):
    """One login identifier held by one account: the digest of a username's or an email's caseless
    key (:mod:`authfold.accounts.caseless`), unique, so the database itself refuses a second holder.

    Usernames and emails share the one unique column: a username that is another account's
    address (or the reverse) collides like any twin. A claim is written before its user's row, so
    ``user`` is NULL only while that write is in flight (or after it died: the next writer of the
    name settles it, see :mod:`authfold.accounts.keys`).
    """

    USERNAME = "username"
    EMAIL = "email"
    # With AUTHFOLD_REFUSE_LOOKALIKES, a username's skeleton: two look-alikes collide too.
    LOOKALIKE = "lookalike"
    KINDS = [(USERNAME, "username"), (EMAIL, "email"), (LOOKALIKE, "look-alike")]

    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=KINDS)
    # No constraint and no cascade in Django: deleting a user (from code deployed before this
    # table exists, too) never reads it; the receivers drop a deleted user's claims, and a claim
    # whose user is gone by any other path is settled as free by the next writer of the name.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="identifier_claims",
    )
    # The exact text the digest was computed from: a write around save() that changed it shows
    # as a claim whose source is no longer the user's, and a dead write's user is one probe of
    # the username's own unique index away.
    source = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "identifier claim"

    def __str__(self):
        return f"{self.kind} claim on {self.source!r}"


class RenameRecord(models.Model):
    """One username that conflict resolution changed: enough to explain it, notify and revert it.

    The record outlives the account (``SET_NULL``) so that nothing about a rename is lost.
    """

    run = models.UUIDField(db_index=True, help_text="The resolution run that made this rename.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="rename_records",
    )
    old_username = models.CharField(max_length=150)
    new_username = models.CharField(max_length=150)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The login backend looks an unknown name up here (a renamed person's old username).
            models.Index(fields=["old_username"], name="authfold_rename_old_username"),
        ]

    def __str__(self):
        return f"{self.old_username} → {self.new_username}"

    @property
    def old_username_works_until(self):
        """Until when the old username still logs in to the account, or ``None`` if it never does."""
        period = renamed_login_period()
        if period is None or self.reverted_at is not None:
            return None
        # Login forms (Django's and ours) and the backend store what is typed as NFKC, so an old
        # name that is not (fullwidth ＭＡＲＩＡ) reaches the rename log as another name.
        if normalize_username(self.old_username) != self.old_username:
            return None
        return self.created_at + period


class TokenBinding(models.Model):
    """The password hash a DRF token was issued under, as a keyed digest: a token whose user's
    hash has changed since, by any path (``update()`` and raw SQL included), is refused.

    Keyed by the token's key rather than a foreign key, so the table exists (empty) in projects
    without ``rest_framework.authtoken``.
    """

    token_key = models.CharField(max_length=40, primary_key=True)
    password_digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = "token binding"

    def __str__(self):
        return f"binding of token {self.token_key[:6]}…"


class PendingEmailChange(models.Model):
    """An address its account asked to change to, waiting for the link mailed there.

    Nobody's login and nobody's claim: it gets no reset mail, blocks no other account, and becomes
    the account's email only through the confirmation (accounts/email_verification.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        # Deleted by drop_email_verification_rows: a cascade would query this table, which code
        # deployed before its migration has run does not have yet.
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="pending_email_change",
    )
    email = models.EmailField(max_length=254)
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = "pending email change"

    def __str__(self):
        return f"{self.email} (pending for user {self.user_id})"


class UnconfirmedEmail(models.Model):
    """The account's current address, not yet confirmed by the link mailed to it at sign-up.

    Only accounts that signed up under ``AUTHFOLD_EMAIL_VERIFICATION`` have one, so every account
    from before counts as confirmed; with ``"mandatory"`` the address logs in to nothing until
    confirmed (a password reset through it confirms it).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        # Deleted by drop_email_verification_rows: a cascade would query this table, which code
        # deployed before its migration has run does not have yet.
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="unconfirmed_email",
    )
    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "unconfirmed email"

    def __str__(self):
        return f"{self.email} (unconfirmed, user {self.user_id})"


def drop_email_verification_rows(sender, instance, using, **kwargs):
    """``pre_delete`` of a user: its pending and unconfirmed addresses go first (their foreign keys
    would refuse the delete), where their tables exist."""
    for model in (PendingEmailChange, UnconfirmedEmail):
        if table_ready(model, using):
            model._default_manager.using(using).filter(user_id=instance.pk).delete()


class LoginFailures(models.Model):
    """An account's recent failed logins (throttle scope ``login_account``), beside the user.

    The login's own statement reads this row with the user, so a right password costs no second
    round trip to a cache; it is written only when a password is wrong.
    """

    # No reverse accessor: the login statement puts its column on the user under its own name.
    # No cascade either: code deployed before this table's migration must still delete users;
    # forget_login_failures deletes the row once the table is there.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    # When each failure happened (seconds since the epoch, newest first, space-separated): DRF's
    # sliding-window history, as the cache held it, each time after the letter of the name typed
    # (none for the username; accounts/throttling.py parse_failed_at). Times older than the rate's
    # period are ignored when read and dropped on the next failure.
    failed_at = models.TextField(default="")

    class Meta:
        verbose_name = "login failures"
        verbose_name_plural = "login failures"

    def __str__(self):
        return f"failed logins of user {self.user_id}"


def forget_login_failures(sender, instance, using, **kwargs):
    """``post_delete`` of a user: its failed logins go with it (where the table exists yet)."""
    if table_ready(LoginFailures, using):
        LoginFailures.objects.using(using).filter(user_id=instance.pk).delete()
