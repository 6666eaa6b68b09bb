"""WebSocket test helpers shared by the areas' socket tests."""


async def refusal_code(communicator) -> int:
    """The close code of a socket the server refuses: accepted, then closed with a 44xx code, never an
    HTTP 403 to the handshake (which browsers report without any code)."""
    connected, _subprotocol = await communicator.connect()
    assert connected, "the server refused the handshake itself instead of closing with a code"
    message = await communicator.receive_output(timeout=2)
    assert message["type"] == "websocket.close"
    return message["code"]
