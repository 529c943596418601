"""Django's PostgreSQL backend, with a health check that costs no round trip.

CONN_HEALTH_CHECKS makes Django check a kept connection before each request uses it, with
`SELECT 1`: a round trip on every request, one statement in ten of a create-ticket. A connection
the server has closed (a restart, pg_terminate_backend, an idle timeout) has something to read:
the server's goodbye, or the end of the stream. A healthy idle connection has nothing. So the
check asks the socket, and sends `SELECT 1` only when the connection is not idle (it always is
between requests, in autocommit)."""

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != TRANSACTION_STATUS_IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(self.connection.fileno(), select.POLLIN)
            # Readable (a message, or the end of the stream), hung up or in error: not usable.
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
