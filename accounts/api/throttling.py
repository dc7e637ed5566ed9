"""Request throttling for the API by scope: ``register`` (per client address) and ``profile``
(per account); rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``."""

from rest_framework import throttling
from rest_framework.settings import api_settings

# Used only when the project's DEFAULT_THROTTLE_RATES has no rate for the scope: a sign-up or
# rename endpoint must stay throttled (DRF's own answer to a missing rate is a 500).
FALLBACK_RATES = {"register": "10/hour", "profile": "30/hour"}


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle, reading the project's rates on each request, with our fallbacks.

    DRF's own class copies the rates once, at import; reading them when asked means a project
    that changes them (or a test's ``settings`` override) is obeyed. A rate of ``None`` turns the
    scope's throttle off.
    """

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return rates[self.scope] if self.scope in rates else FALLBACK_RATES[self.scope]


class WriteScopedRateThrottle(ScopedRateThrottle):
    """Throttles only the requests that change something (reading your own account is free)."""

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
