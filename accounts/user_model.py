"""Which user model django-authfold's rule governs: the one its key table points at, by username.

The key table (:class:`~authfold.accounts.models.CaselessKey`) is tied to the ``AUTH_USER_MODEL``
the project started with. A test that overrides ``AUTH_USER_MODEL`` runs with another model that
has no keys, and a model that logs in by email has no username to fold: for those, the backend
and the receivers step aside and Django's own behaviour holds (``authfold.E001`` refuses the
second kind at start-up). Everything here is looked up when called, never at import.
"""

import functools

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.signals import class_prepared


def keyed_user_model():
    """The user model whose users have key rows (``CaselessKey.user``'s model)."""
    from authfold.accounts.models import CaselessKey

    return CaselessKey._meta.get_field("user").related_model


def user_row_id(instance):
    """The id of ``instance``'s row in the keyed user table, or ``None`` for a new user.

    Not ``instance.pk`` for a multi-table subclass: its primary key is its link to the user row,
    which Django fills only once ``save()`` has written the parents, after ``pre_save``; a user
    promoted to the subclass by copying its fields has the user's id and no link yet.
    """
    return getattr(instance, keyed_user_model()._meta.pk.attname)


def is_keyed_user_model(model):
    """Whether ``model``'s instances are rows of the keyed user table: the keyed model itself, a
    proxy of it, or a multi-table subclass (whose every row has its ``auth_user`` row too)."""
    return isinstance(model, type) and issubclass(model, keyed_user_model())


# Where a user model keeps the receivers connected for it (see connect_to_user_models).
RECEIVERS_ATTRIBUTE = "_authfold_receivers"


def connect_to_user_models(signal, receiver, dispatch_uid):
    """Connect ``receiver`` to the model ``signal`` for every :func:`is_keyed_user_model` model,
    those defined later too (at ``class_prepared``).

    Django names the class saved or deleted as the sender, not its table, so a receiver connected
    for ``User`` alone never hears of a proxy's or a subclass's users. One connection per model,
    not one for every sender: a delete receiver for every sender would cost every model of the
    project Django's fast delete, and the other models' saves and loads ask nothing.
    """

    def connect_if_user_model(sender, **kwargs):
        if not is_keyed_user_model(sender):
            return
        # Django files a receiver under its sender's id(). A class made at run time (a test's)
        # and then freed would leave that id to the next class made, whose signals would reach
        # the receiver. So each model gets a receiver of its own, kept alive by the model and
        # connected weakly: freed with the model, it leaves nothing behind.
        own_receiver = functools.partial(receiver)
        if RECEIVERS_ATTRIBUTE not in sender.__dict__:  # its own, not its parent's
            setattr(sender, RECEIVERS_ATTRIBUTE, [])
        sender.__dict__[RECEIVERS_ATTRIBUTE].append(own_receiver)
        signal.connect(own_receiver, sender=sender, dispatch_uid=dispatch_uid)

    for model in apps.get_models():
        connect_if_user_model(model)
    class_prepared.connect(connect_if_user_model, weak=False, dispatch_uid=dispatch_uid)


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
