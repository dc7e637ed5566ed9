"""Two user models the caseless rule does not govern: the key table points at ``auth.User``."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class EmailUserManager(BaseUserManager):
    def create_user(self, email, password=None):
        user = self.model(email=self.normalize_email(email))
        user.set_password(password)
        user.save(using=self._db)
        return user


class EmailUser(AbstractBaseUser):
    """Logs in by email, like many hosts' custom users: no username to fold (``authfold.E001``)."""

    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    objects = EmailUserManager()


class NamedUserManager(BaseUserManager):
    def create_user(self, username, password=None):
        user = self.model(username=username)
        user.set_password(password)
        user.save(using=self._db)
        return user


class NamedUser(AbstractBaseUser):
    """Logs in by a ``username``, but has no key rows: only ``auth.User`` is keyed here."""

    username = models.CharField(max_length=150, unique=True)

    USERNAME_FIELD = "username"
    objects = NamedUserManager()
