from channels.routing import URLRouter
from django.urls import path

from . import consumers, kiosk_consumers, stats_consumers

# No origin check: sockets authenticate with single-use tickets or kiosk signatures, never cookies,
# and kiosk firmware and mobile apps send no Origin header at all.
websocket_urlpatterns = [
    path("ws/me/", consumers.MeConsumer.as_asgi()),
    # -- kiosks --
    path("ws/kiosk/", kiosk_consumers.KioskConsumer.as_asgi()),
    # -- stats --
    path("ws/stats/", stats_consumers.StatsConsumer.as_asgi()),
]

websocket_application = URLRouter(websocket_urlpatterns)
