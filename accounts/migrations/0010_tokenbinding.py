"""Binds every DRF token to its user's password hash (``TokenBinding``), so a token ends when the
hash changes by any path. Tokens that exist now are bound to their user's current hash: a hash
changed around ``save()`` before this migration cannot be told apart any more. Without
``rest_framework.authtoken`` the table is made and stays empty.
"""

from django.apps import apps as global_apps
from django.db import migrations, models

from authfold.accounts.token_revocation import password_digest

BIND_BATCH_SIZE = 2000


def bind_existing_tokens(apps, schema_editor):
    if not global_apps.is_installed("rest_framework.authtoken"):
        return
    using = schema_editor.connection.alias
    token_model = apps.get_model("authtoken", "Token")
    binding_model = apps.get_model("authfold", "TokenBinding")
    tokens = token_model._default_manager.using(using).order_by("pk")
    bindings = binding_model._default_manager.using(using)
    last = ""
    while True:
        batch = list(
            tokens.filter(pk__gt=last).values_list("pk", "user__password")[:BIND_BATCH_SIZE]
        )
        if not batch:
            return
        bindings.bulk_create(
            [
                binding_model(token_key=key, password_digest=password_digest(hash_))
                for key, hash_ in batch
            ],
            ignore_conflicts=True,  # a token issued since this ran began is bound already
        )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("authfold", "0009_rekey_email_domains_by_idna_2008")]
    if global_apps.is_installed("rest_framework.authtoken"):
        dependencies.append(("authtoken", "0001_initial"))

    operations = [
        migrations.CreateModel(
            name="TokenBinding",
            fields=[
                ("token_key", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("password_digest", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "token binding"},
        ),
        migrations.RunPython(bind_existing_tokens, migrations.RunPython.noop, elidable=False),
    ]
