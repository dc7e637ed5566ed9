"""Authentication backends of django-authfold."""

from backends.case_insensitive import CaseInsensitiveModelBackend

__all__ = ["CaseInsensitiveModelBackend"]
