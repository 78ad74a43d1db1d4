"""The ASGI application: Django's HTTP views, and live chat's WebSockets through Django Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")

# Django must be set up before the routes import models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from support.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # Each route chooses its own authentication and origin check (see support.routing).
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
