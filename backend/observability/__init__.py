"""What an operator sees: one JSON log line per request with its request id, and Prometheus metrics."""
