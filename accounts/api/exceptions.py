"""DRF's exception handler, which also answers a caseless twin refused on save with a 400.

A host's own ``ModelSerializer`` on ``User`` checks ``username`` with DRF's ``UniqueValidator``
(exact case only), so a caseless twin passes validation and the database refuses the save with
:class:`~authfold.accounts.keys.CaselessConflict`. Set::

    REST_FRAMEWORK = {"EXCEPTION_HANDLER": "authfold.accounts.api.exception_handler"}

and that refusal becomes HTTP 400 ``{"username": ["This username is taken. ..."]}`` (or
``{"email": [...]}``), with the message our own serializers give. Everything else goes to DRF's
``rest_framework.views.exception_handler``, so ours is a drop-in for it. A host that already has
an ``EXCEPTION_HANDLER`` calls ours first, where it called DRF's, and keeps its own handling::

    from authfold.accounts.api import exception_handler as authfold_exception_handler

    def host_exception_handler(exc, context):
        response = authfold_exception_handler(exc, context)  # was: DRF's exception_handler
        ...  # the host's own handling, as before
        return response
"""

from collections.abc import Mapping

from rest_framework import serializers, views
from rest_framework.fields import get_error_detail

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.validators import conflict_error


def exception_handler(exc, context):
    """DRF's ``exception_handler``, with ``CaselessConflict`` turned into a field's 400 first.

    DRF's handler then writes the response and marks the request's transaction (with
    ``ATOMIC_REQUESTS``) for rollback, as for any other validation error.
    """
    if isinstance(exc, CaselessConflict):
        error = conflict_error(exc, submitted_username(context))
        exc = serializers.ValidationError(get_error_detail(error))
    return views.exception_handler(exc, context)


def submitted_username(context):
    """The username the request sent, to quote when the refusal could not say which it was."""
    data = getattr(context.get("request"), "data", None)
    username = data.get("username") if isinstance(data, Mapping) else None
    return username if isinstance(username, str) else None
