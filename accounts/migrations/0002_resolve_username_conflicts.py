"""Resolves legacy username conflicts (caseless twins) before the database is asked to refuse them.

Placeholder: the resolution engine fills this in (issue 6). It changes nothing yet.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
