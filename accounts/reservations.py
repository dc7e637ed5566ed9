"""Reserving a username (and email) before its user's row is written, so no crash leaves a twin's way.

A user's key can only follow its row (it points at the row), and outside a transaction the row is
committed on its own: a process killed between the two would leave a user whose name no key
holds. So the names a save writes are reserved first (:class:`KeyReservation`, unique digests, its
own statement) and released once the key is written. A reservation found in the way is settled:

- a user has exactly its username: that user's write did not finish (or is finishing now). Its
  key is repaired from its row, the reservation dropped, and the new write refused as a twin
  (unless it is that same user's);
- no such user, and older than :data:`RESERVATION_GRACE`: a write that died before its row. It is
  dropped and the reservation tried again;
- no such user, younger: the name is being taken right now. Refused.

Repairing only ever writes what the unfinished write was about to write, so settling a live
write's reservation is harmless. ``conflict_audit`` lists and clears what crashes leave behind.
"""

from datetime import timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from authfold.accounts.user_model import keyed_user_model

# Longer than any write holds its reservation (pre_save to post_save, milliseconds), so a younger
# one is a write in progress; short, so a name whose sign-up died is free again soon.
RESERVATION_GRACE = timedelta(seconds=30)

# InnoDB's deadlock error: transactions waiting to insert one digest behind a reservation that
# was inserted and deleted can deadlock when it goes; one of them is a race for that name lost.
MYSQL_DEADLOCK = 1213


def reservation_model():
    from authfold.accounts.models import KeyReservation

    return KeyReservation


def reserve_names(username, email, digests, using, writer_pk=None):
    """Reserve ``digests`` (``username_digest`` and/or ``email_digest``: the ones the save
    changes) for the user being saved as ``username``; returns the reservation's id. Raises
    ``CaselessConflict`` on the field another write holds. ``writer_pk``: the user being saved,
    whose own unfinished earlier write is no conflict.
    """
    from authfold.accounts.keys import CaselessConflict, refused_field

    reservations = reservation_model()._default_manager.using(using)
    values = {"username": username, "email": email}
    row = {
        "username": username,
        "username_digest": digests.get("username_digest"),
        "email_digest": digests.get("email_digest"),
    }
    for _attempt in range(3):
        field = "username"
        try:
            with transaction.atomic(using=using):
                # The email in a second statement: a deadlock (which names no index) then says
                # which of the two was raced for.
                reservation = reservations.create(
                    created_at=timezone.now(), **{**row, "email_digest": None}
                )
                if row["email_digest"] is not None:
                    field = "email"
                    reservations.filter(pk=reservation.pk).update(email_digest=row["email_digest"])
                return reservation.pk
        except IntegrityError as error:
            field = refused_field(error)
            if field is None:
                raise
            column = f"{field}_digest"
            if not settle_reservation(column, row[column], using, writer_pk):
                if field == "email" and username_held(row["username_digest"], using, writer_pk):
                    field = "username"  # both are taken: the name is what the person must change
                raise CaselessConflict(field, values[field]) from error
        except OperationalError as error:
            if error.args[:1] != (MYSQL_DEADLOCK,):
                raise
            raise CaselessConflict(field, values[field]) from error
    raise CaselessConflict("username", username)


def username_held(digest, using, writer_pk):
    """Whether another write's reservation or another user's key holds this username digest."""
    from authfold.accounts.models import CaselessKey

    if digest is None:
        return False
    reservations = reservation_model()._default_manager.using(using)
    keys = CaselessKey._default_manager.using(using).exclude(user_id=writer_pk)
    return (
        reservations.filter(username_digest=digest).exists()
        or keys.filter(username_digest=digest).exists()
    )


def settle_reservation(column, digest, using, writer_pk=None):
    """Settle the reservation holding ``digest`` in ``column``; True if the way is now free.

    See the module docstring for the three cases.
    """
    reservations = reservation_model()._default_manager.using(using)
    holder = reservations.filter(**{column: digest}).first()
    if holder is None:
        return True  # released meanwhile
    user = find_user(holder.username, using)
    if user is not None:
        repair_key_from_row(user, using)
        reservations.filter(pk=holder.pk).delete()
        return writer_pk is not None and user[0] == writer_pk
    if holder.created_at < timezone.now() - RESERVATION_GRACE:
        reservations.filter(pk=holder.pk, created_at=holder.created_at).delete()
        return True
    return False


def find_user(username, using):
    """``(pk, username, email)`` of the user with exactly this username, or ``None``."""
    user_model = keyed_user_model()
    users = user_model._base_manager.using(using)
    email_field = user_model.get_email_field_name()
    return (
        users.filter(**{user_model.USERNAME_FIELD: username})
        .values_list("pk", user_model.USERNAME_FIELD, email_field)
        .first()
    )


def repair_key_from_row(user, using):
    """Write the key of ``user`` (``(pk, username, email)``) as its row says. A key the database
    refuses is left alone: a twin written around ``save()`` (``conflict_audit`` reports it), or a
    user that is gone meanwhile (a live write refused at its key takes its new row back)."""
    from authfold.accounts.keys import claimed_key_fields, stored_key, write_key
    from authfold.accounts.models import CaselessKey

    pk, username, email = user
    fields = claimed_key_fields(username, email, stored_key(pk, using))
    try:
        write_key(CaselessKey, pk, username, email, using, fields=fields)
    except IntegrityError:
        pass


def release_reservation(reservation_id, using):
    """Drop a reservation once its write's key is written (or the write was refused)."""
    if reservation_id is not None:
        reservation_model()._default_manager.using(using).filter(pk=reservation_id).delete()


def orphan_reservations(using):
    """The reservations older than :data:`RESERVATION_GRACE`: left by writes that did not finish."""
    reservations = reservation_model()._default_manager.using(using)
    return reservations.filter(created_at__lt=timezone.now() - RESERVATION_GRACE).order_by("pk")


def clear_orphan_reservations(using):
    """Settle every orphan reservation (repairing the key of a user its write left keyless);
    returns how many were cleared."""
    cleared = 0
    for holder in list(orphan_reservations(using)):
        user = find_user(holder.username, using)
        if user is not None:
            repair_key_from_row(user, using)
        cleared += (
            reservation_model()._default_manager.using(using).filter(pk=holder.pk).delete()[0]
        )
    return cleared
