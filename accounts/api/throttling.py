"""Request throttling for the API, by scope (``register``, ``profile``); rates in settings."""

from rest_framework import throttling
from rest_framework.settings import api_settings


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle, reading ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` on each request.

    DRF's own class copies the rates once, at import; reading them when asked means a project
    that changes them (or a test's ``settings`` override) is obeyed.
    """

    def get_rate(self):
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()


class WriteScopedRateThrottle(ScopedRateThrottle):
    """Throttles only the requests that change something (reading your own account is free)."""

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
