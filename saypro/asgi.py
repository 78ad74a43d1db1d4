"""The ASGI application, for an ASGI server in place of gunicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")

application = get_asgi_application()
