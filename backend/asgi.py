"""HTTP through Django (a plain kiosk deposit on the event loop first), WebSockets through Channels, in
one ASGI application."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (Django must be set up first)

from api.deposit_edge import DepositEdge  # noqa: E402
from api.routing import websocket_application  # noqa: E402
from backend.body_limit import BodyLimitMiddleware  # noqa: E402
from backend.jobs.lifespan import lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(DepositEdge(django_http)),
        "websocket": websocket_application,
        "lifespan": lifespan,
    }
)
