"""The channel layer reconnects after Redis restarts: the next socket joins its groups and gets events."""

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
from channels_redis.core import RedisChannelLayer

from backend.realtime.redis_hosts import channel_layer_host


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A private Redis on a port no one else uses, so restarting it disturbs no one.
PORT = _free_port()

pytestmark = pytest.mark.django_db


def _start_redis() -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603  (a fixed argument list)
        [shutil.which("redis-server"), "--port", str(PORT), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise AssertionError("private redis-server did not start")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=5)


@pytest.mark.asyncio
async def test_the_first_socket_after_a_redis_restart_joins_and_receives():
    server = _start_redis()
    try:
        layer = RedisChannelLayer(hosts=[channel_layer_host(f"redis://127.0.0.1:{PORT}/0")])
        before = await layer.new_channel()
        await layer.group_add("stats.city.1", before)
        _stop(server)
        server = _start_redis()

        after = await layer.new_channel()
        await layer.group_add("stats.city.1", after)
        await layer.group_send("stats.city.1", {"type": "event.message", "event": "kiosk.alert", "data": {}})
        received = await asyncio.wait_for(layer.receive(after), 5)

        assert received["event"] == "kiosk.alert"
        await layer.flush()
    finally:
        _stop(server)


@pytest.mark.asyncio
async def test_a_socket_idle_past_the_blocking_read_timeout_keeps_receiving():
    """channels-redis waits for socket messages in blocking reads of 5 s; with redis-py 8's default 5 s
    socket timeout such a read timed out on an idle socket and the consumer died."""
    server = _start_redis()
    try:
        layer = RedisChannelLayer(hosts=[channel_layer_host(f"redis://127.0.0.1:{PORT}/0")])
        channel = await layer.new_channel()
        await layer.group_add("stats.city.1", channel)
        waiting = asyncio.ensure_future(layer.receive(channel))

        await asyncio.sleep(layer.brpop_timeout + 1.5)
        assert not waiting.done()
        await layer.group_send("stats.city.1", {"type": "event.message", "event": "kiosk.alert", "data": {}})
        received = await asyncio.wait_for(waiting, 5)

        assert received["event"] == "kiosk.alert"
        await layer.flush()
    finally:
        _stop(server)
