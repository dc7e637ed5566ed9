"""schemathesis, driven by our own OpenAPI schema, throws generated requests (valid and not) at
every operation through the WSGI app: no answer may be a 5xx, and every answer must be one the
schema declares, with the body it declares. Bounded and deterministic, so CI stays fast and stable.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mysite.wsgi import application
from tests.factories import UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Loaded from the app itself; requests go straight to the WSGI app, no network.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def database_connection_kept_across_requests():
    """Like Django's test client, keep the connection (and the test's transaction on it) open:
    the app would otherwise close it when each request finishes."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token_header(db):
    """Credentials of a real account, so the signed-in operations are reached, not only their 401."""
    user = UserFactory(username="fuzzed", email="fuzzed@example.com")
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error_or_an_undeclared_answer(case, token_header):
    # Throttling would turn later examples into 429s and hide what they test.
    cache.clear()
    case.call_and_validate(headers=token_header, checks=CHECKS)
