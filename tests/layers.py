"""A channel layer that keeps what it is sent, for tests of what is published."""


class RecordingLayer:
    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
        self.sent.append((group, message))
