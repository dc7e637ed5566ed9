"""Shared pytest fixtures."""

import pytest

from accounts.caseless import forget_caseless_keys_state


@pytest.fixture(autouse=True)
def fresh_caseless_keys_state():
    """Tests that migrate the accounts app backwards must not leave a stale "keys ready" answer."""
    forget_caseless_keys_state()
    yield
    forget_caseless_keys_state()
