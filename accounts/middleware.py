"""Middleware a host adds when it adopts django-authfold (docs/ADOPTING.md, steps 1a and 3).

- ``ModelBackendSessionMiddleware`` keeps people logged in across the switch from Django's
  ``ModelBackend`` to ours.
- ``CaselessConflictMiddleware`` answers 409, never 500, when the database refuses a save for a
  caseless twin in a view that is not ours.
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.validators import conflict_error
from authfold.backends import CaseInsensitiveModelBackend

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def backend_in_model_backends_place():
    """The listed path of our backend (or a subclass) when ``ModelBackend`` is no longer listed;
    ``None`` while it is, or when ours is not."""
    paths = settings.AUTHENTICATION_BACKENDS
    if MODEL_BACKEND in paths:
        return None
    return next(
        (path for path in paths if issubclass(import_string(path), CaseInsensitiveModelBackend)),
        None,
    )


class ModelBackendSessionMiddleware:
    """Hands the sessions that ``ModelBackend`` logged in to ours, which took its place.

    Django keeps in each session the dotted path of the backend that logged the person in, and
    treats a session whose backend is no longer in ``AUTHENTICATION_BACKENDS`` as logged out: the
    deploy that puts ours in ``ModelBackend``'s place would log everybody out, and so would every
    later ``login(request, user, backend="...ModelBackend")`` in the host's own code. Ours finds
    the user from a session exactly as ``ModelBackend`` does (its ``get_user`` is
    ``ModelBackend``'s, and Django still checks the session's password hash), so the person stays
    logged in. Goes right after ``SessionMiddleware``, before anything reads ``request.user``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(BACKEND_SESSION_KEY) == MODEL_BACKEND:
            ours = backend_in_model_backends_place()
            if ours is not None:
                session[BACKEND_SESSION_KEY] = ours
        return self.get_response(request)


class CaselessConflictMiddleware:
    """Answers an unhandled ``CaselessConflict`` with a 409 naming the refused field.

    A host's own view saving a ``ModelForm`` on ``User`` validates first (the ``validate_unique``
    hook), but two requests can pass that check at the same moment; the database then refuses the
    second save with ``CaselessConflict``, which the host's view does not expect. Nothing was
    written (the refused key stops the row's save), so the answer says so: a page, or
    ``{field: [messages]}`` to a request that sent or asked for JSON. Our own views, the admin
    mixin and the API exception handler catch the refusal earlier and show it on the field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CaselessConflict):
            return None
        # The submitted name, for a refusal that could not tell which name it was (as our forms do).
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        error = conflict_error(exception, request.POST.get("username"), signed_in=signed_in)
        [(field, errors)] = error.error_dict.items()
        reasons = [str(message) for error in errors for message in error]
        if wants_json(request):
            return JsonResponse({field: reasons}, status=409)
        context = {"field": field, "reasons": reasons}
        return render(request, "authfold/conflict.html", context, status=409)


def wants_json(request):
    """Whether the request sent JSON or asks for it first (an API client, not a browser form)."""
    accept = request.headers.get("Accept", "")
    return request.content_type == "application/json" or accept.startswith("application/json")
