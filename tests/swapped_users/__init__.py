"""User models a test can swap in with ``AUTH_USER_MODEL``, as Django's own auth_tests do."""
