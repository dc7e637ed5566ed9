"""The Django app users touch: forms, serializers, API views, admin, templates, commands, migrations."""
