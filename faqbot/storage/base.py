"""``Database``: the one interface the question log's queries use, whatever the database.

A ``Database`` is one connection. Statements use ``?`` placeholders; a dialect translates what
it must. Transactions are explicit (``begin``/``commit``/``rollback``) so the question log's
writer can put a whole batch in one.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from faqbot.settings import DatabaseKind, DatabaseUrl

Row = tuple[Any, ...]


class QuestionLogError(Exception):
    """The question log or its database cannot be used; the message is one sentence."""


class Database(abc.ABC):
    """One connection to the question log's database."""

    kind: ClassVar[DatabaseKind]
    now: ClassVar[str]
    """An SQL expression for the database's clock in Unix seconds (a double): the leases that
    decide between replicas compare against one clock, not each machine's own."""
    skip_locked: ClassVar[str]
    """Appended to a claim's sub-select: rows another transaction is claiming are skipped."""

    def __init__(self, location: DatabaseUrl) -> None:
        self.location = location
        self.name = location.display
        """Where the database is, for messages (a path, or a URL without its password)."""

    @abc.abstractmethod
    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement; return its row count."""

    @abc.abstractmethod
    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; return its rows (a query, or ``RETURNING``)."""

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch(sql, parameters)
        return rows[0] if rows else None

    @abc.abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row (in the open transaction, if any)."""

    @abc.abstractmethod
    async def begin(self) -> None:
        """Open a write transaction (SQLite: take the write lock at once)."""

    async def commit(self) -> None:
        await self.execute("COMMIT")

    async def rollback(self) -> None:
        """Roll back the open transaction, if there is one."""
        if self.in_transaction:
            await self.execute("ROLLBACK")

    @property
    @abc.abstractmethod
    def in_transaction(self) -> bool: ...

    @abc.abstractmethod
    def is_transient(self, error: BaseException) -> bool:
        """Whether ``error`` can pass by itself (locked, disk full, server restarting): the
        writer retries such a write instead of giving it up."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- schema versions (faqbot.storage.schema) --------------------------------------------

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The version of the schema the database holds (0 for a new one)."""

    @abc.abstractmethod
    async def begin_migration(self) -> None:
        """Open a transaction no other process migrates in at the same time."""

    @abc.abstractmethod
    async def set_schema_version(self, version: int) -> None:
        """Record ``version`` (inside the migration's transaction)."""

    # -- after a purge ----------------------------------------------------------------------

    @abc.abstractmethod
    async def reclaim(self) -> bool:
        """Make the space of deleted texts unreadable where the database can (outside any
        transaction); False if it could not this time."""
