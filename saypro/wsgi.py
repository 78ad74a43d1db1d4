"""The WSGI application that gunicorn serves (`gunicorn saypro.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")

application = get_wsgi_application()
