"""DRF's JSON parser, answering JSON nested too deep with a 400 instead of a 500.

Python's ``json`` raises ``RecursionError`` (not ``ValueError``) on arrays or objects nested about
a thousand deep, and DRF's parser lets it through as a 500. Our API views use this parser; a host
gets it for its own views with::

    REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
        "authfold.accounts.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ]
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

NESTED_TOO_DEEP = _("JSON parse error - the body is nested too deeply.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python can parse is a 400 (``ParseError``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(NESTED_TOO_DEEP) from None


# What our API views read: DRF's default media types, with the JSON parser above.
ACCOUNT_API_PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
