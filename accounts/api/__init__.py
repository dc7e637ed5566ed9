"""The REST API (Django REST framework): tokens, registration and the current user.

``authfold.accounts.api.exception_handler`` is DRF's exception handler that also turns a caseless
twin refused on save into a 400 (see :mod:`authfold.accounts.api.exceptions`).
"""

from authfold.accounts.api.exceptions import exception_handler

__all__ = ["exception_handler"]
