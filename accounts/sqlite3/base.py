"""Django's SQLite backend, beginning every transaction with ``BEGIN IMMEDIATE``.

A deferred transaction that has read and then writes cannot wait for another writer: SQLite
fails it at once with "database is locked", whatever the timeout. ``IMMEDIATE`` takes the write
lock at ``BEGIN``, where the timeout does apply, so concurrent sign-ups queue instead of failing.
Django 5.1 and later do this with ``OPTIONS["transaction_mode"] = "IMMEDIATE"``; this engine
(``"ENGINE": "authfold.accounts.sqlite3"``) does the same on Django 4.2.
"""

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite with ``BEGIN IMMEDIATE`` for every transaction Django starts."""

    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
