"""The runbook's settings snippets for a project that calls ``settings.configure()`` (in
``manage.py``, or in its test runner) instead of naming a settings module.

The snippets are written for a settings module: they read and rebind its names (``INSTALLED_APPS
= [*INSTALLED_APPS, ...]``, ``globals().get("REST_FRAMEWORK", {})``). Kept in a file of their own
and run with the project's keywords as that file's globals, they read and extend those keywords
exactly as they would a module, so the project pastes the same snippets as everyone else.
Importing this module touches no setting: it runs before ``configure()``.
"""

import runpy


def with_settings_file(options, path):
    """The keywords for ``settings.configure(**...)``: ``options`` as the Python file at ``path``
    leaves them when it runs with them as its globals (what it adds, rebinds or changes). The
    dict ``options`` keeps its keys (a snippet may change a dict inside it, as in a module); the
    file's own names (``import django``, loop variables) are left out, as Django leaves out a
    module's lowercase names."""
    namespace = runpy.run_path(str(path), init_globals=dict(options))
    return {name: value for name, value in namespace.items() if name.isupper()}
