"""``CaselessConflictMiddleware``: a save the database refused for a caseless twin answers 409,
never 500, in views that are not ours.

A host's own view saving a ``ModelForm`` on ``User`` validates first (the ``validate_unique``
hook), but two requests can pass that check at the same moment; the database then refuses the
second save with ``CaselessConflict``, which the host's view does not expect. Nothing was written
(the refused key stops the row's save), so the answer is a page saying so. Our own views, the admin
mixin and the API exception handler catch the refusal earlier and show it on the field.
"""

from django.shortcuts import render

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.validators import conflict_error


class CaselessConflictMiddleware:
    """Answers an unhandled ``CaselessConflict`` with a 409 page naming the refused field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CaselessConflict):
            return None
        # The submitted name, for a refusal that could not tell which name it was (as our forms do).
        error = conflict_error(exception, request.POST.get("username"))
        [(field, errors)] = error.error_dict.items()
        reasons = [message for error in errors for message in error]
        context = {"field": field, "reasons": reasons}
        return render(request, "authfold/conflict.html", context, status=409)
