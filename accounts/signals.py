"""Signals a host project can connect to."""

from django.dispatch import Signal

# Sent when a person logs in with the username conflict resolution renamed their account away
# from (on the login page, the admin's or the API's token login), so that a host whose pages show
# no Django messages can tell them their new name its own way. Keyword arguments: ``request``,
# ``user`` (its ``get_username()`` is the new name), ``old_username`` (as typed, normalised) and
# ``works_until`` (the moment the old username stops logging in). The sender is the user model.
renamed_login = Signal()
