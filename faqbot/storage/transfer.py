"""Copying a question log from one database to another (``faqbot migrate``: SQLite into
PostgreSQL), safe to run again, and checked row by row afterwards.

What is copied: questions, votes, picks, the leaders' chats and the inbox (unfinished updates
are answered from the new database, their claims cleared so the first replica takes them). Not
copied: the replicas' leases, job runs and versions (they start afresh) and the secret's
fingerprint (both logs are checked against the one secret before copying). A row already in
the target (by its key) is left as it is, so a second run copies only what is new. Afterwards
every source row's key must be found in the target, else ``TransferError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faqbot.settings import DatabaseUrl
from faqbot.storage.base import Database, QuestionLogError

BATCH = 1000


class TransferError(QuestionLogError):
    """The copy is incomplete; the message says which table lacks rows."""


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: str
    """An expression over the columns that identifies a row (NULLs made comparable)."""
    insert: str
    """The statement that inserts one row unless its key is there."""


def _table(name: str, columns: Sequence[str], key: str, missing: str = "") -> _Table:
    marks = ", ".join("?" * len(columns))
    # VALUES where it can: there PostgreSQL types a NULL parameter by its column
    values = f"SELECT {marks} WHERE {missing}" if missing else f"VALUES ({marks})"
    insert = f"INSERT INTO {name} ({', '.join(columns)}) {values} ON CONFLICT DO NOTHING"
    return _Table(name, tuple(columns), key, insert)


TABLES = (
    _table(
        "questions",
        (
            "id",
            "asked_at",
            "user_key",
            "chat_key",
            "chat_kind",
            "status",
            "item_id",
            "score",
            "latency_ms",
            "off_topic",
            "text",
        ),
        "id",
    ),
    # votes' unique (question_id, user_key) lets NULL user keys (old rows) repeat: checked here
    _table(
        "votes",
        ("question_id", "user_key", "helpful", "voted_at", "item_id"),
        "question_id || '/' || COALESCE(user_key, '')",
        "NOT EXISTS (SELECT 1 FROM votes WHERE question_id = ? "
        "AND COALESCE(user_key, '') = COALESCE(?, ''))",
    ),
    _table(
        "picks",
        ("question_id", "item_id", "user_key", "picked_at"),
        "question_id || '/' || item_id || '/' || COALESCE(user_key, '')",
    ),
    _table("leader_chats", ("user_key", "started_at"), "user_key"),
    _table(
        "inbox",
        ("update_id", "received_at", "payload", "attempts", "done_at"),
        "CAST(update_id AS TEXT)",
    ),
)


@dataclass(frozen=True)
class TableCount:
    """One table after the copy: rows in the source, rows copied now, rows in the target."""

    table: str
    source: int
    copied: int
    target: int


async def _count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0


async def _keys(db: Database, table: _Table) -> set[str]:
    return {str(row[0]) for row in await db.fetch(f"SELECT {table.key} FROM {table.name}")}


async def copy_log(source: Database, target: Database) -> list[TableCount]:
    """Copy every table of ``source`` into ``target`` (both migrated to the same schema), each
    table in one transaction; return the counts; ``TransferError`` if a row is missing after."""
    counts = []
    for table in TABLES:
        before = await _count(target, table.name)
        rows = await source.fetch(f"SELECT {', '.join(table.columns)} FROM {table.name}")
        await target.begin()
        try:
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                if table.name == "votes":  # the NOT EXISTS check takes the key again
                    parameters = [(*row, row[0], row[1]) for row in chunk]
                else:
                    parameters = [tuple(row) for row in chunk]
                await target.executemany(table.insert, parameters)
            await target.commit()
        except BaseException:
            await target.rollback()
            raise
        missing = len(await _keys(source, table) - await _keys(target, table))
        if missing:
            raise TransferError(
                f"the copy is incomplete: {missing} row(s) of {table.name} in {source.name} "
                f"are not in {target.name}; nothing was lost in the source, run faqbot "
                "migrate again."
            )
        after = await _count(target, table.name)
        counts.append(TableCount(table.name, len(rows), after - before, after))
    return counts


async def migrate_to(source: Path, target: DatabaseUrl, secret: bytes) -> list[TableCount]:
    """``faqbot migrate``: the SQLite log at ``source`` into ``target``, both migrated to the
    current schema and checked against ``secret`` first."""
    from faqbot.questionlog import check_secret, connect

    origin = await connect(source)
    try:
        destination = await connect(target)
        try:
            await check_secret(origin, secret)
            await check_secret(destination, secret)
            return await copy_log(origin, destination)
        finally:
            await destination.close()
    finally:
        await origin.close()
