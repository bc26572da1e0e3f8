"""ASGI entry point: Django for HTTP, the ticker consumer for WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveblog.settings")
# Set Django up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from liveblog.routing import websocket_urlpatterns  # noqa: E402
from ticker.polling import UpToDatePolls  # noqa: E402
from ticker.serving import tune_server_process  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Up-to-date polls of the changes endpoint are answered before Django.
        "http": UpToDatePolls(django_asgi_app),
        # Readers are anonymous, so no session or auth middleware: origins are
        # checked against ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

tune_server_process()
