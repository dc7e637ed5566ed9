"""Which user model django-authfold's rule governs: the one its key table points at, by username.

The key table (:class:`~authfold.accounts.models.CaselessKey`) is tied to the ``AUTH_USER_MODEL``
the project started with. A test that overrides ``AUTH_USER_MODEL`` runs with another model that
has no keys, and a model that logs in by email has no username to fold: for those, the backend
and the receivers step aside and Django's own behaviour holds (``authfold.E001`` refuses the
second kind at start-up). Everything here is looked up when called, never at import.
"""

import functools

from django.core.exceptions import FieldDoesNotExist
from django.db import models


def keyed_user_model():
    """The user model whose users have key rows (``CaselessKey.user``'s model)."""
    from authfold.accounts.models import CaselessKey

    return CaselessKey._meta.get_field("user").related_model


@functools.cache
def is_keyed_user_model(model):
    """Whether ``model``'s instances are rows of the keyed user table: the keyed model itself, a
    proxy of it, or a multi-table subclass (whose every row has its ``auth_user`` row too). Model
    signals name the class saved, not the table, so the receivers ask this of every sender:
    remembered per class, as every model's ``__init__`` asks it (the keyed model never changes
    once the apps are loaded)."""
    return isinstance(model, type) and issubclass(model, keyed_user_model())


def logs_in_by_username(user_model):
    """Whether ``user_model``'s ``USERNAME_FIELD`` is a text field named ``username``, the only
    kind of login name the rule is built for (Django's ``User``, ``AbstractUser`` subclasses)."""
    if getattr(user_model, "USERNAME_FIELD", None) != "username":
        return False
    try:
        field = user_model._meta.get_field("username")
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.CharField)


def caseless_rule_applies(user_model):
    """Whether ``user_model`` is the keyed model and logs in by username: then the rule holds."""
    return user_model is keyed_user_model() and logs_in_by_username(user_model)


def form_user_model():
    """The model our forms and serializers are declared on: the keyed one, or, under a user model
    the rule does not support, Django's own ``User``, so that importing our forms, views and URLs
    (the URL system check does) cannot crash before ``authfold.E001`` says what is wrong."""
    user_model = keyed_user_model()
    if logs_in_by_username(user_model):
        return user_model
    from django.contrib.auth.models import User

    return User
