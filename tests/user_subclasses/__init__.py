"""A multi-table subclass and a proxy of ``User``, installed for the test run only."""
