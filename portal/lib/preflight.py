"""Stop the test run at once, in one sentence, when PostgreSQL or Redis cannot be reached."""

import os
import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port),
                                      timeout=3):
            return True
    except OSError:
        return False


def main() -> int:
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if database.startswith("postgres") and not reachable(database, 5432):
        print(f"PostgreSQL is not reachable at {database}: start it or set DATABASE_URL "
              "to another server, e.g. DATABASE_URL=postgres://user@host:5432/portal make test.")
        return 1
    if broker.startswith("redis") and not reachable(broker, 6379):
        print(f"Redis is not reachable at {broker}: start it or set CELERY_BROKER_URL "
              "to another server, e.g. CELERY_BROKER_URL=redis://host:6379/0 make test.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
