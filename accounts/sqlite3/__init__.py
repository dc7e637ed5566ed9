"""A database backend: Django's SQLite backend with every transaction begun ``IMMEDIATE``."""
