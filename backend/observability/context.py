"""The request being served, for log lines written anywhere below it (a service, a job's publish)."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
