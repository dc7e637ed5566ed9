"""Authentication backends of django-authfold, and the django-axes username callable."""

from authfold.backends.case_insensitive import CaseInsensitiveModelBackend
from authfold.backends.lockouts import axes_username

__all__ = ["CaseInsensitiveModelBackend", "axes_username"]
