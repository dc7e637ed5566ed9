"""Authentication backends of django-authfold."""

from authfold.backends.case_insensitive import CaseInsensitiveModelBackend

__all__ = ["CaseInsensitiveModelBackend"]
