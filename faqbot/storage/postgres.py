"""The PostgreSQL dialect: psycopg 3's async connection, in autocommit with explicit transactions.

What differs from SQLite: placeholders (``?`` becomes ``%s``, a literal ``%`` becomes ``%%``),
the schema version in a one-row table ``faqbot_schema``, migrations serialised by a
transaction-level advisory lock (replicas starting together migrate once), claims that skip rows
another replica is claiming (``FOR UPDATE SKIP LOCKED``), ``VACUUM`` after a purge in place of
SQLite's ``secure_delete`` and WAL checkpoint, and a new connection when the server went away (a
restart, a fail-over), so a replica rides out a database restart instead of stopping.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from faqbot.settings import DatabaseUrl
from faqbot.storage.base import Database, QuestionLogError, Row

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10
MIGRATION_LOCK = 0x66_61_71_62_6F_74  # "faqbot": the advisory lock migrations hold
_RECLAIMED_TABLES = "questions, inbox"
"""Where purged texts and erased update payloads leave dead row versions behind."""


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """``sql`` with ``?`` placeholders as psycopg's ``%s`` (outside quoted strings) and every
    literal ``%`` doubled."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote:
            out.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


def connect_failure(url: DatabaseUrl, error: BaseException) -> QuestionLogError:
    """One sentence for a PostgreSQL server faqbot cannot use (never with the password)."""
    reason = " ".join(str(error).split("\n", 1)[0].split()) or error.__class__.__name__
    reason = reason.removeprefix("connection failed: ")
    return QuestionLogError(
        f"cannot use the PostgreSQL database {url.display} ({reason}); check "
        "FAQBOT_DATABASE_URL and that the server is running and lets this user in."
    )


class PostgresDatabase(Database):
    """A psycopg ``AsyncConnection`` that reconnects when the server went away."""

    kind = "postgresql"
    now = "(EXTRACT(EPOCH FROM clock_timestamp())::double precision)"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, connection: psycopg.AsyncConnection[Any], url: DatabaseUrl) -> None:
        super().__init__(url)
        self.url = url
        self._connection = connection

    @classmethod
    async def connect(cls, url: DatabaseUrl) -> PostgresDatabase:
        """Connect; a server that cannot be reached or refuses is one ``QuestionLogError``."""
        try:
            return cls(await cls._open(url), url)
        except psycopg.Error as error:
            raise connect_failure(url, error) from error

    @staticmethod
    async def _open(url: DatabaseUrl) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            url.url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="faqbot",
            # A dead peer (a replica's machine gone, a network cut) is noticed within a minute,
            # so its session and what it held do not linger.
            keepalives=1,
            keepalives_idle=20,
            keepalives_interval=5,
            keepalives_count=4,
        )

    async def _live(self) -> psycopg.AsyncConnection[Any]:
        """The connection; a new one when the server closed the old (outside transactions)."""
        connection = self._connection
        if connection.closed or connection.broken:
            self._connection = connection = await self._open(self.url)
            logger.info("connected to the PostgreSQL database %s again", self.name)
        return connection

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        connection = await self._live()
        cursor = await connection.execute(translate(sql), tuple(parameters))
        return int(cursor.rowcount)

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        connection = await self._live()
        cursor = await connection.execute(translate(sql), tuple(parameters))
        if cursor.description is None:
            return []
        return [tuple(row) for row in await cursor.fetchall()]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        connection = await self._live()
        async with connection.cursor() as cursor:
            await cursor.executemany(translate(sql), [tuple(row) for row in rows])

    async def begin(self) -> None:
        await self.execute("BEGIN")

    async def rollback(self) -> None:
        if self.in_transaction:
            await self._connection.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        connection = self._connection
        if connection.closed or connection.broken:
            return False
        return connection.info.transaction_status in (
            TransactionStatus.INTRANS,
            TransactionStatus.INERROR,
            TransactionStatus.ACTIVE,
        )

    def is_transient(self, error: BaseException) -> bool:
        # Connection lost, server shutting down, disk full, serialisation failure, deadlock:
        # all OperationalError in psycopg's hierarchy of SQLSTATE classes.
        return isinstance(error, psycopg.OperationalError)

    async def close(self) -> None:
        await self._connection.close()

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT to_regclass('faqbot_schema') IS NOT NULL")
        if not row or not row[0]:
            return 0
        version = await self.fetchone("SELECT MAX(version) FROM faqbot_schema")
        return int(version[0]) if version and version[0] is not None else 0

    async def begin_migration(self) -> None:
        await self.begin()
        await self.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        await self.execute("CREATE TABLE IF NOT EXISTS faqbot_schema (version INTEGER NOT NULL)")

    async def set_schema_version(self, version: int) -> None:
        await self.execute("DELETE FROM faqbot_schema")
        await self.execute("INSERT INTO faqbot_schema (version) VALUES (?)", (int(version),))

    async def reclaim(self) -> bool:
        """``VACUUM`` the tables purged texts and erased payloads leave dead row versions in, so
        they are no longer reachable and their space is reused (see the README on privacy:
        only ``VACUUM FULL`` rewrites the files; the WAL and backups keep them until rotated).
        Only the tables' owner may vacuum them: for another role it is a logged no-op."""
        try:
            await self.execute(f"VACUUM {_RECLAIMED_TABLES}")
        except psycopg.Error as error:
            logger.warning("could not VACUUM %s after the purge: %s", _RECLAIMED_TABLES, error)
            return False
        return True
