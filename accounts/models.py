"""What django-authfold keeps beside ``auth_user``: the caseless keys and the log of renames.

``auth.User`` itself is neither swapped nor altered.
"""

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete

from authfold.accounts.caseless import skeleton_digests_ready, table_ready
from authfold.accounts.conf import renamed_login_period


def columns_present(fields, using):
    """The key fields to write on ``using``: without the skeleton until migration 0006 has run
    (code deployed before its ``migrate`` keeps writing keys)."""
    if skeleton_digests_ready(using):
        return fields
    return [field for field in fields if getattr(field, "name", field) != "skeleton_digest"]


class CaselessKeyQuerySet(models.QuerySet):
    """Key rows; updates and ``bulk_create`` leave the skeleton out where its column is not there
    yet (:func:`columns_present`)."""

    def update(self, **kwargs):
        for name in set(kwargs) - set(columns_present(list(kwargs), self.db)):
            del kwargs[name]
        return super().update(**kwargs)

    def _insert(self, objs, fields, *args, **kwargs):
        return super()._insert(objs, columns_present(fields, self.db), *args, **kwargs)

    _insert.queryset_only = False


class CaselessKey(models.Model):
    """One user's username and email keys (see :mod:`authfold.accounts.caseless`), as indexed digests.

    The username digest becomes unique once the resolve migration has removed the legacy twins;
    from then on the database itself refuses a second account with the same username.
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

    objects = CaselessKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "caseless key"
        constraints = [
            # Built by migration 0003, after 0002 has resolved the legacy twins. Its name must
            # contain the column name: authfold.accounts.keys tells username and email refusals apart by it.
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

    def _do_insert(self, manager, using, fields, *args, **kwargs):
        # save() inserts through the base manager, not CaselessKeyQuerySet.
        return super()._do_insert(manager, using, columns_present(fields, using), *args, **kwargs)


class KeyReservation(models.Model):
    """A username (and email) being written: taken before the user's row, dropped once its key is.

    A process that dies between the row and its key leaves this row behind, holding the name:
    the next write of that name repairs the dead write's key from its row (or, when no row has the
    name, clears a reservation older than a few seconds) instead of letting a twin through.
    """

    # Each NULL when the save does not change it (an email change reserves no username).
    username_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    email_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Exactly as it is being written, so the reservation's user is one probe of auth_user's own
    # unique index away.
    username = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "key reservation"

    def __str__(self):
        return f"reservation of {self.username!r}"


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
        return self.created_at + period


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
    # sliding-window history, as the cache held it. Times older than the rate's period are
    # ignored when read and dropped on the next failure.
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


post_delete.connect(
    forget_login_failures,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="authfold-forget-login-failures",
)
