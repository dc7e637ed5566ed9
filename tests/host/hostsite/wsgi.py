"""WSGI entry point of the host project, as ``startproject`` writes it (gunicorn serves it in
``tests/test_host_under_gunicorn.py``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")

application = get_wsgi_application()
