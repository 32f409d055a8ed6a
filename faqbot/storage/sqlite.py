"""The SQLite dialect: one file in the data directory, private to its owner.

WAL mode with ``synchronous=FULL`` (a committed row survives a power cut), ``secure_delete``
(deleted content is overwritten with zeros), a 10 s busy timeout for other processes on the same
file, ``BEGIN IMMEDIATE`` (the write lock is taken when the transaction starts, so two writers
never deadlock), ``PRAGMA user_version`` for the schema version, and a WAL checkpoint after a
purge so no purged text stays behind in the WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from faqbot.settings import DatabaseUrl
from faqbot.storage.base import Database, QuestionLogError, Row

logger = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700


def secure_directory(path: Path) -> None:
    """Create the data directory 0700, or tighten it to 0700 when others may read it.

    A shared directory (sticky bit, like /tmp) or one owned by someone else is left alone
    with a warning: tightening it would lock other users out of their own files.
    """
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    info = path.stat()
    if not stat.S_IMODE(info.st_mode) & 0o077:
        return
    if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():
        logger.warning("the data directory %s is readable by others; make it 0700", path)
        return
    try:
        os.chmod(path, PRIVATE_DIRECTORY_MODE)
    except OSError as error:
        logger.warning("cannot make the data directory %s private (0700): %s", path, error)


def secure_file(path: Path) -> None:
    """Tighten a private file (database, WAL, SHM, secret) to 0600 if it exists and is looser."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077 or mode & 0o600 != 0o600:
        os.chmod(path, PRIVATE_FILE_MODE)


def _companions(path: Path) -> tuple[Path, ...]:
    """The database with its WAL and shared-memory files."""
    return (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


class SqliteDatabase(Database):
    """An aiosqlite connection (autocommit; transactions are explicit)."""

    kind = "sqlite"
    now = "((julianday('now') - 2440587.5) * 86400.0)"
    skip_locked = ""  # BEGIN IMMEDIATE already makes every writer wait its turn

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        super().__init__(DatabaseUrl.sqlite(path))
        self.path = path
        self.connection = connection

    @classmethod
    async def connect(cls, path: Path) -> SqliteDatabase:
        """Open (creating if needed) the file in WAL mode, private to its owner.

        The directory is made 0700 and the database, WAL and SHM files 0600 (tightened when an
        older install left them readable; SQLite gives new WAL and SHM files the database's
        mode). ``secure_delete`` makes SQLite overwrite deleted content with zeros, whatever it
        was compiled with, so a purged text is not left behind in free space.
        """
        path = Path(path)
        secure_directory(path.parent)
        with contextlib.suppress(FileExistsError):  # a new log is private to its owner (0600)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        for file in _companions(path):
            secure_file(file)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await connection.execute("PRAGMA busy_timeout = 10000")
            await connection.execute("PRAGMA secure_delete = ON")
            await _use_wal(connection, path)
            await connection.execute("PRAGMA synchronous = FULL")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    def secure_files(self) -> None:
        """Tighten the database's files again (a migration may have created the WAL)."""
        for file in _companions(self.path):
            secure_file(file)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        cursor = await self.connection.execute(sql, tuple(parameters))
        count = cursor.rowcount
        await cursor.close()
        return int(count)

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        # One trip to aiosqlite's thread, not three: under load each trip waits its turn on
        # a busy event loop, and the writer's commits (so the inbox's done marks) with it.
        rows = await self.connection.execute_fetchall(sql, tuple(parameters))
        return [tuple(row) for row in rows]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.executemany(sql, rows)

    async def begin(self) -> None:
        await self.fetch("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self.fetch("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return bool(self.connection.in_transaction)

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError)

    async def close(self) -> None:
        await self.connection.close()

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def begin_migration(self) -> None:
        await self.begin()  # the write lock: another process waits, then finds it migrated

    async def set_schema_version(self, version: int) -> None:
        await self.execute(f"PRAGMA user_version = {int(version)}")

    async def reclaim(self) -> bool:
        """Copy the WAL into the database and truncate it; False when readers or writers kept
        the checkpoint from completing (the caller tries again)."""
        row = await self.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
        return row is not None and not row[0]


async def _use_wal(db: aiosqlite.Connection, path: Path) -> None:
    """Switch to WAL (persistent in the file). SQLite does not wait on its busy handler for
    this switch, so two processes creating the log at once retry here for up to 10 s."""
    for attempt in range(200):
        try:
            cursor = await db.execute("PRAGMA journal_mode = WAL")
            mode = await cursor.fetchone()
            await cursor.close()
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 199:
                raise
            await asyncio.sleep(0.05)
    if mode is None or str(mode[0]).lower() != "wal":
        raise QuestionLogError(f"cannot switch {path} to WAL mode (got {mode!r}).")


def open_failure(path: Path, error: BaseException) -> QuestionLogError:
    """One sentence for a failure to open the log (or its secret) at ``path``: what is wrong
    and what to do about it."""
    path = Path(path)
    directory = path.parent
    reason = getattr(error, "strerror", None) or str(error) or error.__class__.__name__
    text = str(error).lower()
    number = getattr(error, "errno", None)
    if path.is_dir():
        return QuestionLogError(
            f"{path} is a directory, but faqbot keeps its question log in a file of that name; "
            "move the directory away or set FAQBOT_DATA_DIR to another directory."
        )
    if directory.exists() and not directory.is_dir():
        return QuestionLogError(
            f"the data directory {directory} is a file, not a directory; "
            "move it away or set FAQBOT_DATA_DIR to a directory."
        )
    if number == errno.ENOSPC or "disk is full" in text:
        return QuestionLogError(
            f"the data directory {directory} is full ({reason}); "
            "free space on its disk and start faqbot again."
        )
    if (
        number in (errno.EACCES, errno.EPERM, errno.EROFS)
        or "readonly" in text
        or (directory.is_dir() and not os.access(directory, os.W_OK))
    ):
        return QuestionLogError(
            f"the data directory {directory} is not writable ({reason}); make it writable for "
            "the user faqbot runs as, or set FAQBOT_DATA_DIR to a writable directory."
        )
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return QuestionLogError(
            f"the question log {path} is damaged ({error}); restore it from a backup, or move "
            "it aside so faqbot starts a new, empty log."
        )
    return QuestionLogError(f"cannot open the question log {path} ({reason}).")
