"""Every account has a profile: what the host shows about a person beyond ``auth.User``."""

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """A person's public face: created with the account, edited in the admin's user page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(blank=True)

    def __str__(self):
        return self.display_name or self.user.get_username()
