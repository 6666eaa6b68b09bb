"""The windows and sizes a kiosk request must respect; errors state them from here."""

from datetime import timedelta

# How far X-Timestamp may be from the server's clock (API contract: 300 s).
SIGNATURE_WINDOW = timedelta(seconds=300)
NONCE_LENGTH = range(16, 65)
# An offline kiosk uploads its backlog later; deposits older than this are refused as stale.
OFFLINE_WINDOW = timedelta(days=30)
FUTURE_TOLERANCE = timedelta(minutes=5)
BATCH_LIMIT = 500
