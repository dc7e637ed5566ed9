"""Authentication backends of django-authfold, and the django-axes username callable."""

from authfold.backends.case_insensitive import CaseInsensitiveModelBackend, CaselessLoginMixin
from authfold.backends.lockouts import axes_username

__all__ = ["CaseInsensitiveModelBackend", "CaselessLoginMixin", "axes_username"]
