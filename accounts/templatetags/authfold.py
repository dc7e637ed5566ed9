"""Template tags of our pages: ``{% load authfold %}``."""

from django import template

from authfold.accounts.conf import authfold_setting

register = template.Library()


@register.simple_tag
def signup_open():
    """Whether to offer the sign-up page (``AUTHFOLD_SIGNUP_OPEN``)."""
    return authfold_setting("AUTHFOLD_SIGNUP_OPEN")
