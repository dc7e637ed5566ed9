"""Our API views refuse a body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a 413, before
anything reads it, whatever its media type and whichever DRF version runs.

Django applies that limit when ``request.body`` or ``request.POST`` reads a body; DRF's parsers
read the stream themselves, so before DRF 3.17.2 the limit never applied to an API, and since
then a body over it ends in Django's HTML 400 page. Our endpoints take no files, so the whole
body counts, multipart included.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException


class RequestBodyTooLarge(APIException):
    """413: the body is larger than the project's ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


def declared_body_length(request):
    """The body's length as the client declared it (``Content-Length``); 0 when absent or bad,
    as Django and DRF read it."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class BodyLimitMixin:
    """For an ``APIView``: a body over the limit (``None``: no limit) is refused once the
    request is authenticated, permitted and throttled, and before its data is parsed."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and declared_body_length(request) > limit:
            raise RequestBodyTooLarge()
