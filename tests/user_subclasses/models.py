"""Users of the keyed table under other classes, as host projects make them: a multi-table
subclass (a CMS's editors, with a table of their own joined to ``auth_user``) and a proxy."""

from django.contrib.auth.models import User
from django.db import models


class Editor(User):
    """A multi-table subclass: each editor is a row of ``auth_user`` and one of its own table."""

    desk = models.CharField(max_length=50, blank=True)


class Member(User):
    """A proxy: the same rows as ``User``, another class (and admin) for them."""

    class Meta:
        proxy = True
