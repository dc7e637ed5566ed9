"""A ``DiscoverRunner`` that writes every test's outcome to a JSON file for scripts/peer-suites.

The file (``AUTHFOLD_PEERS_REPORT``) says whether our app and backend were in place when the tests
ran, and maps each unittest id to one of ``passed``, ``failed``, ``error``, ``skipped``, ``xfail``
(a test Django itself marks as an expected failure) or ``xpass``. Parallel workers send their
events to the main process's result, so one file covers them all.
"""

import json
import os
import unittest

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.runner import DiscoverRunner


class RecordingResult:
    """A mixin for a unittest result class: remembers the outcome of each test by its id, and
    starts each test with an empty default cache.

    Our backend counts failed logins per account in that cache (docs/SECURITY.md, "Throttles"),
    and Django's runner never clears it: ten wrong passwords for ``testclient`` spread over the
    suite would refuse a later test's right one. Our own suite clears it for each test the same
    way (tests/conftest.py); the baseline run clears it too, so the two runs stay comparable.
    """

    def startTest(self, test):
        from django.core.cache import cache

        cache.clear()
        super().startTest(test)

    def startTestRun(self):
        super().startTestRun()
        self.authfold_outcomes = {}

    def record(self, test, outcome):
        # A failed subtest fails its test; nothing later may turn that back into a pass.
        if self.authfold_outcomes.get(test.id()) not in ("failed", "error"):
            self.authfold_outcomes[test.id()] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self.record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.record(test, "failed")

    def addError(self, test, err):
        super().addError(test, err)
        self.record(test, "error")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self.record(test, "failed" if failed else "error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.record(test, "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.record(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.record(test, "xpass")

    def stopTestRun(self):
        super().stopTestRun()
        path = os.environ.get("AUTHFOLD_PEERS_REPORT")
        if path:
            report = {
                "authfold_installed": apps.is_installed("authfold.accounts"),
                "authentication_backends": list(settings.AUTHENTICATION_BACKENDS),
                "database": connection.vendor,
                "outcomes": self.authfold_outcomes,
            }
            with open(path, "w") as file:
                json.dump(report, file, indent=1, sort_keys=True)


class RecordingRunner(DiscoverRunner):
    """Django's runner, with :class:`RecordingResult` mixed into whichever result class it picks."""

    def get_resultclass(self):
        base = super().get_resultclass() or unittest.TextTestResult
        return type(f"Recording{base.__name__}", (RecordingResult, base), {})
