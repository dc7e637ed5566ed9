"""A person's own edits to their account (the web profile, ``PATCH /api/users/me/``): only what the
request changed, written onto the row as stored now, under its lock.

A page or an API call loads the account when its request starts. Saving that whole copy would
write back every column as it was then, undoing whatever another request did meanwhile: a
confirmation that moved the email, a rename, a password change. So the row is read again with
``SELECT ... FOR UPDATE``, the request's changes are applied to that copy, an email change goes
through verification against the stored address, and ``save(update_fields=...)`` writes only the
columns that differ. A confirmation locks the same row first
(:func:`~authfold.accounts.email_verification.confirm_email`), so the two run one after the
other, and the claims and verification rows follow the row as stored.
"""

from authfold.accounts.email_verification import change_email, changes_email, drop_pending_change
from authfold.accounts.user_model import form_user_model

User = form_user_model()


def update_account(user_pk, changes, request, address_held=False):
    """Apply ``changes`` (``{field: value}``, validated) to the stored account; call it inside a
    transaction. Returns ``(user, pending_email)``: the account as saved, and the address that
    now waits for its confirmation link (or ``None``).

    Submitting the account's current address as its email cancels a pending change. A new
    address another account holds (``address_held``: the form let it through under enumeration
    prevention) is answered as pending too, and its mailbox told instead of sent a link.
    """
    user = User._default_manager.select_for_update().get(pk=user_pk)
    stored = {field: getattr(user, field) for field in changes}
    for field, value in changes.items():
        setattr(user, field, value)
    pending = None
    if "email" in changes:
        if changes_email(stored["email"], changes["email"]):
            pending = change_email(
                user, stored["email"], changes["email"], request, held_by_other=address_held
            )
        else:
            drop_pending_change(user.pk)
    changed = [field for field in changes if getattr(user, field) != stored[field]]
    if changed:
        user.save(update_fields=changed)
    return user, pending
