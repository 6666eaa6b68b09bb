"""WebSocket consumers. Events are hints: clients re-fetch state over REST after a reconnect."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.errors import InvalidTicket
from accounts.services import redeem_ws_ticket
from backend.observability.metrics import WEBSOCKETS
from backend.realtime.groups import user_group

# 4401 mirrors HTTP 401 in the application close-code range (4000-4999).
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403


class EventConsumer(AsyncJsonWebsocketConsumer):
    """Relays `event.message` group sends to the socket as `{"event", "data"}`; clients only listen."""

    groups_joined: list[str]

    async def refuse(self, code: int) -> None:
        """Accept, then close with an application code: a close before accepting reaches the client as an
        HTTP 403 to the handshake, and the 4401/4403 that tells it what went wrong is lost."""
        # The plain accept: a refused socket never counts as an open one.
        await super().accept()
        await self.close(code=code)

    async def join(self, *groups: str) -> None:
        self.groups_joined = list(groups)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self.counted_as = type(self).__name__.removesuffix("Consumer").lower()
        WEBSOCKETS.labels(endpoint=self.counted_as).inc()

    async def disconnect(self, code):
        if getattr(self, "counted_as", None):
            WEBSOCKETS.labels(endpoint=self.counted_as).dec()
            self.counted_as = None
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def event_message(self, message):
        await self.send_json({"event": message["event"], "data": message["data"]})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Clients only listen: a frame that is not JSON text is dropped instead of crashing the socket.
        if text_data is None:
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


async def user_from_ticket(scope):
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ticket = (query.get("ticket") or [""])[0]
    try:
        return await database_sync_to_async(redeem_ws_ticket)(ticket)
    except InvalidTicket:
        return None


class MeConsumer(EventConsumer):
    """`/ws/me/`: points.credited, drop.graded, redemption.updated for the signed-in person."""

    async def connect(self):
        user = await user_from_ticket(self.scope)
        if user is None:
            await self.refuse(CLOSE_UNAUTHORISED)
            return
        self.scope["user"] = user
        await self.join(user_group(user.id))
        await self.accept()
