"""The question log: what was asked, how it went, and what helped, in SQLite or PostgreSQL.

Privacy first: no raw Telegram id is ever stored (users become an HMAC-SHA256 key), question
texts are kept only where ``FAQBOT_KEEP_TEXT`` allows, always redacted and never for safety
messages, and ``purge`` deletes texts older than the retention period.

Nothing lost, nothing blocking: ``log_question`` and ``log_pick`` only put a row on an unbounded
``asyncio.Queue``; one writer task drains it and commits whole batches in one transaction, so an
answer never waits for the disk and a killed process loses at most the rows it had not yet
committed. ``flush`` and ``close`` wait for the queue to drain.

The database is the one ``FAQBOT_DATABASE_URL`` names (``faqbot.storage``: SQLite by default,
PostgreSQL for several replicas); the queries here are written once for both. The schema is
versioned and migrated forward on open (``faqbot.storage.schema``).

The update inbox (``faqbot.inbox``) shares the database, its schema and its writer: an update's
rows are held back while it is handled (``holding``) and committed together with its inbox mark
(``write_together``), only if that mark still finds the update unfinished and held by this
process, so an answered question always has exactly one row, whichever replica answered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faqbot.redact import redact
from faqbot.settings import DatabaseUrl, KeepText, Settings
from faqbot.storage.base import Database, QuestionLogError
from faqbot.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from faqbot.storage.sqlite import (
    PRIVATE_DIRECTORY_MODE,
    PRIVATE_FILE_MODE,
    SqliteDatabase,
    open_failure,
    secure_directory,
    secure_file,
)

if TYPE_CHECKING:
    from faqbot.coordination import Coordination

__all__ = [
    "MIGRATIONS",
    "PRIVATE_DIRECTORY_MODE",
    "PRIVATE_FILE_MODE",
    "SCHEMA_VERSION",
    "Database",
    "QuestionLogError",
    "migrate",
    "open_failure",
    "secure_directory",
    "secure_file",
]

logger = logging.getLogger(__name__)

STATUSES = ("answered", "clarify", "no_match", "safety", "smalltalk")
UNANSWERED = ("clarify", "no_match")
CHAT_KINDS = ("private", "group", "terminal")
_CHAT_KIND_ALIASES = {"supergroup": "group", "channel": "group"}
MAX_TEXT_CHARS = 1000
"""Stored texts are cut to this length (the matcher looks at no more)."""
BATCH_ROWS = 500
"""At most this many queued operations are committed in one transaction."""
CLOSING_RETRIES = 8
"""While closing, a transient write error is retried this often before the row is given up."""
SECRET_FILE = "secret"
PURGE_JOB = "purge"
"""The daily purge's name among the replicas' job runs (``faqbot.coordination``)."""


# --------------------------------------------------------------------------------------------
# Privacy: secret, pseudonymous keys, file modes (redaction lives in faqbot.redact)
# --------------------------------------------------------------------------------------------


def load_or_create_secret(settings: Settings) -> bytes:
    """The HMAC key: ``FAQBOT_SECRET`` if set, else ``data_dir/secret``, created once (0600).

    The file is written under a temporary name and linked into place, so two processes starting
    at once agree on one secret and nobody ever reads a half-written file.
    """
    if settings.secret:
        return settings.secret.encode("utf-8")
    path = settings.data_dir / SECRET_FILE
    secure_directory(settings.data_dir)
    if not path.exists():
        temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    secure_file(path)
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise QuestionLogError(
            f"the secret file {path} is empty; set FAQBOT_SECRET or restore the file "
            "(deleting it changes every user key)."
        )
    return value.encode("utf-8")


def keeps_text(policy: KeepText, status: str) -> bool:
    """Whether the policy stores this status's question text (never a safety message's, nor small
    talk's: "hej" and "tak" tell a leader nothing)."""
    if status in ("safety", "smalltalk"):
        return False
    if policy is KeepText.ALL:
        return True
    if policy is KeepText.UNANSWERED:
        return status in UNANSWERED
    return False


# --------------------------------------------------------------------------------------------
# Opening and migrating
# --------------------------------------------------------------------------------------------


def to_timestamp(moment: datetime) -> float:
    """Unix seconds; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_timestamp(value: float) -> datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(value, tz=UTC)


LogLocation = Path | DatabaseUrl
"""A question log's database: a SQLite file by path, or a ``DatabaseUrl``."""


def _as_url(location: LogLocation) -> DatabaseUrl:
    return location if isinstance(location, DatabaseUrl) else DatabaseUrl.sqlite(Path(location))


def log_exists(location: LogLocation) -> bool:
    """Whether there is a log to read (a PostgreSQL database is taken to exist; connecting
    says otherwise)."""
    url = _as_url(location)
    return url.path is None or url.path.is_file()


async def open_database(location: LogLocation) -> Database:
    """Connect to the log's database without migrating it (``connect`` migrates)."""
    url = _as_url(location)
    if url.path is not None:
        return await SqliteDatabase.connect(url.path)
    from faqbot.storage.postgres import PostgresDatabase

    return await PostgresDatabase.connect(url)


async def connect(location: LogLocation) -> Database:
    """Open (creating if needed) the log's database and migrate it to ``SCHEMA_VERSION``."""
    db = await open_database(location)
    try:
        await migrate(db)
    except BaseException as error:
        await db.close()
        passes_as_is = isinstance(error, QuestionLogError) or not isinstance(error, Exception)
        if isinstance(db, SqliteDatabase) or passes_as_is:
            raise
        from faqbot.storage.postgres import connect_failure  # e.g. no right to create tables

        raise connect_failure(_as_url(location), error) from error
    if isinstance(db, SqliteDatabase):
        db.secure_files()
    return db


async def open_log(settings: Settings) -> QuestionLog:
    """The question log the settings name, with its secret; any failure to open it (a
    read-only, full or missing data directory, a damaged file, a PostgreSQL server that cannot
    be reached or refuses) is one ``QuestionLogError``."""
    url = settings.database
    try:
        if url.path is not None and url.path.is_dir():  # checked first: aiosqlite would fail
            # on it in its own thread
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(url.path))
        secret = load_or_create_secret(settings)
        return await QuestionLog.open(
            url,
            secret=secret,
            keep_text=settings.keep_text,
            retention_days=settings.retention_days,
        )
    except (OSError, sqlite3.Error) as error:
        # A failed aiosqlite connect stops its worker thread without waiting for it; give the
        # thread its moment, so it does not report to an event loop that is already closed.
        await asyncio.sleep(0.1)
        raise open_failure(url.path or settings.database_path, error) from error


# --------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """The condition for writing one group of held rows (``write_together``), checked for
    every group of a writer batch in one statement: ``sql`` has ``{rows}`` where a ``VALUES``
    list goes, one ``row`` per group (its first value the group's key), then takes the
    ``shared`` parameters, and returns the keys whose groups may be written."""

    sql: str
    row: tuple[Any, ...]
    shared: tuple[Any, ...] = ()


Returns = Literal["nothing", "rowcount", "rows", "inserted"]
"""What a write's future resolves to: None, the row count, the rows (``RETURNING``, a query),
or whether exactly one row was inserted."""


@dataclass
class _Write:
    """One queued statement; ``future`` is set when it has been committed (or failed).

    A write with ``together`` stands for those writes, committed in order in one transaction
    (all or none); with a ``guard`` as well, they are written only if the guard statement
    returns a row (the inbox's done mark: still held by this process, not yet done).
    """

    sql: str
    parameters: tuple[Any, ...]
    future: asyncio.Future[Any] | None = None
    returns: Returns = "nothing"
    together: tuple[_Write, ...] = ()
    guard: Guard | None = None
    alone: Callable[[Database], Awaitable[Any]] | None = None
    """Run this alone, between transactions (a WAL checkpoint or a VACUUM cannot run inside
    one), instead of ``sql``."""


class Counted(Enum):
    """What became of a button press: counted, a repeat of one already counted, or refused
    (no such question was answered or asked back in that chat). True only when counted."""

    RECORDED = "recorded"
    REPEATED = "repeated"
    REFUSED = "refused"

    def __bool__(self) -> bool:
        return self is Counted.RECORDED


# A vote counts for a question the bot answered, or asked back and then had a suggestion
# picked, in the chat the question came from.
_VOTABLE = """SELECT 1 FROM questions AS q WHERE q.id = ?
    AND COALESCE(q.chat_key, '') = COALESCE(?, '')
    AND (q.status = 'answered'
         OR (q.status = 'clarify' AND EXISTS (SELECT 1 FROM picks WHERE question_id = q.id)))"""
# A pick counts for a question the bot asked back, in the chat it came from.
_PICKABLE = (
    "SELECT 1 FROM questions WHERE id = ? AND status = 'clarify' "
    "AND COALESCE(chat_key, '') = COALESCE(?, '')"
)
RECLAIM_ATTEMPTS = 50
"""How often purge retries a WAL checkpoint that readers or writers kept from completing."""
FINGERPRINT = "secret_fingerprint"
"""The ``meta`` row that says which secret the log's keys were made with."""


_STOP = object()

Statement = tuple[str, Sequence[Any]]
"""One SQL statement and its parameters."""


def secret_fingerprint(secret: bytes) -> str:
    """What the log records of its secret: an HMAC of a fixed text, which tells two secrets
    apart and reveals nothing of either."""
    return hmac.new(secret, b"faqbot secret fingerprint", hashlib.sha256).hexdigest()[:16]


@dataclass
class HeldWrites:
    """The rows one task queued inside ``QuestionLog.holding``, not yet queued for the disk."""

    writes: list[_Write] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.writes)


_HELD: ContextVar[HeldWrites | None] = ContextVar("faqbot_questionlog_held", default=None)


@dataclass(frozen=True)
class UnansweredQuestion:
    """A stored (redacted) question the bot could not answer directly."""

    question_id: str
    asked_at: datetime
    status: str
    text: str
    item_id: str | None
    score: float

    def __str__(self) -> str:
        return self.text


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def check_secret(db: Database, secret: bytes) -> None:
    """Record the secret's fingerprint in a new log; refuse a log written with another secret
    (its user and chat keys would not match: votes and picks would be refused, people counted
    twice), e.g. a replica given its own secret."""
    fingerprint = secret_fingerprint(secret)
    await db.execute(
        "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (FINGERPRINT, fingerprint),
    )
    row = await db.fetchone("SELECT value FROM meta WHERE name = ?", (FINGERPRINT,))
    if row is not None and row[0] != fingerprint:
        raise QuestionLogError(
            f"the question log {db.name} was written with another secret (FAQBOT_SECRET or the "
            "secret file in FAQBOT_DATA_DIR); give every faqbot using it the same secret, or "
            "start a new log."
        )


class QuestionLog:
    """The open question log. Create with ``await QuestionLog.open(...)``; ``await close()``.

    The sync writers (``log_question``, ``log_pick``) may be called from any thread; the async
    methods belong to the event loop that opened the log.
    """

    def __init__(
        self,
        db: Database,
        *,
        reader: Database | None = None,
        secret: bytes,
        keep_text: KeepText,
        retention_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = db
        """The writer's connection (its dialect: ``database.kind``, ``database.now``)."""
        self.location = db.location
        self.path = db.location.path
        """The SQLite file, or None on PostgreSQL."""
        self.keep_text = KeepText(keep_text)
        self.retention_days = retention_days
        self._db = db
        self._reader = reader or db
        self._secret = secret
        self._clock = clock
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._writer = self._loop.create_task(
            self._write_forever(), name="faqbot-questionlog-writer"
        )

    @classmethod
    async def open(
        cls,
        location: LogLocation,
        *,
        secret: bytes,
        keep_text: KeepText,
        retention_days: int,
        clock: Callable[[], datetime] | None = None,
    ) -> QuestionLog:
        """Open or create the log (a SQLite path or a ``DatabaseUrl``), migrate it, check that
        it was written with this secret, and start its writer task.

        On PostgreSQL the log keeps a second connection for reads, so a report never waits
        for the writer's transaction (SQLite's one connection serves both, as before).
        """
        if not secret:
            raise QuestionLogError("the question log needs a non-empty secret.")
        if retention_days < 1:
            raise QuestionLogError(f"retention must be at least 1 day, got {retention_days}.")
        db = await connect(location)
        reader: Database | None = None
        try:
            await check_secret(db, secret)
            if not isinstance(db, SqliteDatabase):
                reader = await open_database(location)
        except BaseException:
            await db.close()
            raise
        return cls(
            db,
            reader=reader,
            secret=secret,
            keep_text=keep_text,
            retention_days=retention_days,
            clock=clock or _utc_now,
        )

    @property
    def connection(self) -> Database:
        """The connection for readers such as the report (call ``flush`` first)."""
        return self._reader

    @property
    def pending(self) -> int:
        """Operations queued but not yet taken by the writer."""
        return self._queue.qsize()

    def user_key(self, user_id: int | None) -> str | None:
        """The pseudonymous key for a Telegram user id: HMAC-SHA256 hex, never the id itself."""
        if user_id is None:
            return None
        return hmac.new(self._secret, str(int(user_id)).encode("ascii"), hashlib.sha256).hexdigest()

    def chat_key(self, chat_id: int | None) -> str | None:
        """The pseudonymous key for a Telegram chat id (its own HMAC domain: a private chat's
        id is its user's id, but its chat key is not that user's key)."""
        if chat_id is None:
            return None
        message = b"chat:" + str(int(chat_id)).encode("ascii")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    # -- writes ---------------------------------------------------------------------------

    def _enqueue(self, write: _Write) -> None:
        if self._closed:
            raise QuestionLogError("the question log is closed.")
        held = _HELD.get()
        if held is not None and write.future is None:  # see ``holding``
            held.writes.append(write)
            return
        if threading.get_ident() == self._loop_thread:
            self._queue.put_nowait(write)
        else:  # e.g. a terminal chat reading input in a worker thread
            self._loop.call_soon_threadsafe(self._queue.put_nowait, write)

    def log_question(
        self,
        *,
        question: str,
        status: str,
        item_id: str | None,
        score: float,
        latency_ms: float,
        chat_kind: str,
        user_id: int | None,
        off_topic: bool = False,
        chat_id: int | None = None,
    ) -> str:
        """Queue one question's row and return its id (16 hex chars); never blocks or drops.

        The text is stored only where the policy keeps it, redacted and cut to 1000 chars;
        a safety message's text is never stored. ``off_topic`` marks a no_match the matcher
        judged to be outside the subject (the report keeps those apart from knowledge gaps).
        ``chat_id`` (stored as a pseudonymous key) is the chat the answer goes to: its buttons
        count only when pressed there.
        """
        status = str(status)
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        kind = _CHAT_KIND_ALIASES.get(chat_kind, chat_kind)
        if kind not in CHAT_KINDS:
            raise ValueError(f"unknown chat kind {chat_kind!r}; expected {', '.join(CHAT_KINDS)}")
        question_id = secrets.token_hex(8)
        keep = keeps_text(self.keep_text, status)
        text = redact(question, limit=MAX_TEXT_CHARS) if keep else None
        self._enqueue(
            _Write(
                "INSERT INTO questions (id, asked_at, chat_kind, user_key, chat_key, status, "
                "item_id, score, latency_ms, text, off_topic) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    question_id,
                    to_timestamp(self._clock()),
                    kind,
                    self.user_key(user_id),
                    self.chat_key(chat_id),
                    status,
                    None if status == "safety" else item_id,
                    float(score),
                    float(latency_ms),
                    text,
                    int(bool(off_topic) and status == "no_match"),
                ),
            )
        )
        return question_id

    def _pick(
        self, question_id: str, item_id: str, user_id: int | None, chat_id: int | None
    ) -> _Write:
        return _Write(
            "INSERT INTO picks (question_id, item_id, user_key, picked_at) "
            f"SELECT ?, ?, ?, ? WHERE EXISTS ({_PICKABLE}) ON CONFLICT DO NOTHING",
            (
                question_id,
                item_id,
                self.user_key(user_id),
                to_timestamp(self._clock()),
                question_id,
                self.chat_key(chat_id),
            ),
        )

    def log_pick(
        self, *, question_id: str, item_id: str, user_id: int | None, chat_id: int | None = None
    ) -> None:
        """Queue that a clarify suggestion was picked (see ``record_pick``), without waiting."""
        self._enqueue(self._pick(question_id, item_id, user_id, chat_id))

    async def record_pick(
        self, *, question_id: str, item_id: str, user_id: int | None, chat_id: int | None
    ) -> Counted:
        """Record that a clarify suggestion was picked: which question led to which item.

        Counted once per suggestion per person, and only for a question the bot asked back
        in that chat; anything else (a forged or foreign button) is refused.
        """
        write = self._pick(question_id, item_id, user_id, chat_id)
        write.returns = "inserted"
        if await self._submit(write):
            return Counted.RECORDED
        return await self._repeat_or_refused(
            "SELECT 1 FROM picks WHERE question_id = ? AND item_id = ? "
            f"AND COALESCE(user_key, '') = ? AND EXISTS ({_PICKABLE})",
            (
                question_id,
                item_id,
                self.user_key(user_id) or "",
                question_id,
                self.chat_key(chat_id),
            ),
        )

    async def record_vote(
        self,
        *,
        question_id: str,
        user_id: int | None,
        helpful: bool,
        chat_id: int | None = None,
        item_id: str | None = None,
    ) -> Counted:
        """Record a thumbs-up/down, once per user per answer (a repeat is ``REPEATED``).

        Counted only for a question the bot answered (or asked back and had a suggestion
        picked) in the chat ``chat_id``; anything else is ``REFUSED``. The vote is about
        ``item_id`` if given, else the last suggestion picked for the question, else the
        question's own item (resolved in the writer, after earlier rows). Votes without a user
        id (the terminal) count as one anonymous user.
        """
        chat_key, user_key = self.chat_key(chat_id), self.user_key(user_id) or ""
        recorded = await self._submit(
            _Write(
                "INSERT INTO votes (question_id, user_key, helpful, voted_at, item_id) "
                "SELECT ?, ?, ?, ?, COALESCE(?, (SELECT item_id FROM picks "
                "WHERE question_id = ? ORDER BY picked_at DESC, rowid DESC LIMIT 1), "
                f"(SELECT item_id FROM questions WHERE id = ?)) WHERE EXISTS ({_VOTABLE}) "
                "ON CONFLICT DO NOTHING",
                (
                    question_id,
                    user_key,
                    int(bool(helpful)),
                    to_timestamp(self._clock()),
                    item_id,
                    question_id,
                    question_id,
                    question_id,
                    chat_key,
                ),
                returns="inserted",
            )
        )
        if recorded:
            return Counted.RECORDED
        return await self._repeat_or_refused(
            f"SELECT 1 FROM votes WHERE question_id = ? AND user_key = ? AND EXISTS ({_VOTABLE})",
            (question_id, user_key, question_id, chat_key),
        )

    async def _repeat_or_refused(self, sql: str, parameters: tuple[Any, ...]) -> Counted:
        """After an insert that did nothing: was it already there (a repeat) or refused?"""
        row = await self._reader.fetchone(sql, parameters)
        return Counted.REPEATED if row else Counted.REFUSED

    async def purge(self, now: datetime | None = None) -> int:
        """Delete question texts older than the retention period; return how many.

        SQLite overwrites the texts in the database (``secure_delete``), then the WAL is
        checkpointed into it and truncated to zero bytes, so no copy of a purged text is left
        in the WAL either, even beside a running bot that keeps writing. PostgreSQL vacuums the
        tables, so the old row versions are no longer reachable (see ``Database.reclaim``).
        """
        cutoff = (now or self._clock()) - timedelta(days=self.retention_days)
        removed = int(
            await self._submit(
                _Write(
                    "UPDATE questions SET text = NULL WHERE text IS NOT NULL AND asked_at < ?",
                    (to_timestamp(cutoff),),
                    returns="rowcount",
                )
            )
        )
        await self.reclaim()  # also when nothing was due: a checkpoint earlier readers blocked
        return removed

    async def reclaim(self) -> bool:
        """Make deleted content unreadable (SQLite: checkpoint and truncate the WAL;
        PostgreSQL: VACUUM); False if it never got its turn.

        A checkpoint waits (busy timeout) for other connections' transactions; when readers
        keep it from finishing, it is retried a while before giving up with a warning.
        """
        for attempt in range(RECLAIM_ATTEMPTS):
            if await self._submit(_Write("", (), alone=lambda db: db.reclaim())):
                return True
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
        logger.warning("the question log's WAL could not be checkpointed; purged texts remain")
        return False

    async def purge_if_due(self, coordination: Coordination | None = None) -> int | None:
        """The daily purge's one try (the bot's JobQueue tries every hour): with
        ``coordination`` (replicas sharing the log) only the first replica to claim today's
        (UTC) run purges, and this returns None in every other one; how many texts went. A
        purge that fails gives its claim back, so the next try runs it again."""
        day = self._clock().astimezone(UTC).date().isoformat()
        if coordination is not None and not await coordination.claim_job(PURGE_JOB, day):
            return None
        try:
            removed = await self.purge()
        except BaseException:  # failed or cancelled: the next try (any replica's) purges
            if coordination is not None:
                with contextlib.suppress(Exception):
                    await coordination.unclaim_job(PURGE_JOB, day)
            raise
        if removed:
            logger.info("purged %d question texts older than %d days", removed, self.retention_days)
        return removed

    @contextlib.contextmanager
    def holding(self) -> Iterator[HeldWrites]:
        """Hold back the rows this task queues (questions, picks) instead of queuing them.

        The delivery handles each update inside this block and then commits the held rows
        together with the update's inbox mark (``write_together``): a crash before that commit
        loses both, and the replayed update logs its question once. Writes the caller awaits
        (votes, purges) are not held.
        """
        held = HeldWrites()
        token = _HELD.set(held)
        try:
            yield held
        finally:
            _HELD.reset(token)

    def write_together(self, held: HeldWrites, guard: Guard | None = None) -> None:
        """Queue the held rows as one transaction (``flush`` waits for it), if ``guard`` lets.

        The guard (the inbox's done mark) returns the update's key only if it finds the update
        still unfinished and held by this process; else another replica took it over (this
        one's lease ran out) and logs it itself, so the rows held here are dropped and the
        update is logged once.
        """
        parts = tuple(held.writes)
        held.writes = []
        if not parts and guard is None:
            return
        if self._closed:
            raise QuestionLogError("the question log is closed.")
        self._enqueue_now(_Write("", (), together=parts, guard=guard))

    async def write(self, sql: str, parameters: Sequence[Any] = (), *, rows: bool = False) -> Any:
        """Run one statement after everything queued before it and wait for its commit.

        Returns the statement's rows when ``rows`` (for ``RETURNING``), else its row count.
        """
        return await self._submit(
            _Write(sql, tuple(parameters), returns="rows" if rows else "rowcount")
        )

    def _enqueue_now(self, write: _Write) -> None:
        """Queue ``write`` even inside ``holding`` (it is the held rows' own commit)."""
        token = _HELD.set(None)
        try:
            self._enqueue(write)
        finally:
            _HELD.reset(token)

    async def flush(self) -> None:
        """Wait until everything queued before this call is committed (a no-op once closed)."""
        if self._closed:
            await asyncio.shield(self._writer)
            return
        await self._submit(_Write("", ()))

    async def close(self) -> None:
        """Flush the queue, stop the writer and close the database; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(_STOP)
        try:
            await self._writer
        finally:
            await self._db.close()
            if self._reader is not self._db:
                await self._reader.close()

    async def _submit(self, write: _Write) -> Any:
        write.future = asyncio.get_running_loop().create_future()
        self._enqueue(write)
        return await write.future

    # -- reads ----------------------------------------------------------------------------

    async def unanswered(self, limit: int = 20) -> list[UnansweredQuestion]:
        """The latest stored (redacted) clarify and no_match questions, newest first."""
        await self.flush()
        rows = await self._reader.fetch(
            "SELECT id, asked_at, status, text, item_id, score FROM questions "
            "WHERE status IN ('clarify', 'no_match') AND text IS NOT NULL "
            "ORDER BY asked_at DESC, rowid DESC LIMIT ?",
            (int(limit),),
        )
        return [
            UnansweredQuestion(row[0], from_timestamp(row[1]), row[2], row[3], row[4], row[5])
            for row in rows
        ]

    async def count(self, status: str | None = None, *, since: datetime | None = None) -> int:
        """How many questions (of one status, since a moment) the log holds; e.g. safety."""
        await self.flush()
        sql = "SELECT COUNT(*) FROM questions WHERE asked_at >= ?"
        parameters: list[Any] = [to_timestamp(since) if since else float("-inf")]
        if status is not None:
            sql += " AND status = ?"
            parameters.append(str(status))
        row = await self._reader.fetchone(sql, parameters)
        return int(row[0]) if row else 0

    # -- leaders' private chats (for the weekly digest) ------------------------------------

    def record_leader_chat(self, user_id: int) -> None:
        """Queue that this leader has a private chat with the bot (stored by key, not by id)."""
        key = self.user_key(user_id)
        self._enqueue(
            _Write(
                "INSERT INTO leader_chats (user_key, started_at) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (key, to_timestamp(self._clock())),
            )
        )

    def forget_leader_chat(self, user_id: int) -> None:
        """Queue that the bot can no longer write to this leader (blocked, chat gone)."""
        self._enqueue(
            _Write("DELETE FROM leader_chats WHERE user_key = ?", (self.user_key(user_id),))
        )

    async def leaders_with_chat(self, admin_ids: Iterable[int]) -> list[int]:
        """Those of ``admin_ids`` (from the settings) who have a private chat with the bot.

        The raw ids come from the configuration; the log holds only their keys.
        """
        await self.flush()
        by_key = {self.user_key(admin_id): admin_id for admin_id in admin_ids}
        if not by_key:
            return []
        marks = ", ".join("?" * len(by_key))
        rows = await self._reader.fetch(
            f"SELECT user_key FROM leader_chats WHERE user_key IN ({marks})", tuple(by_key)
        )
        return sorted(by_key[row[0]] for row in rows)

    # -- the writer -----------------------------------------------------------------------

    async def _write_forever(self) -> None:
        """Take everything queued (up to ``BATCH_ROWS``), commit it as one transaction, repeat."""
        stopping = False
        while not stopping:
            batch: list[_Write] = []
            alone: _Write | None = None
            item = await self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                elif item.alone is not None:
                    alone = item
                else:
                    batch.append(item)
                if stopping or alone or len(batch) >= BATCH_ROWS or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if batch:
                try:
                    await self._write(batch)
                except Exception:  # a bug must not stop the writer: keep draining
                    logger.exception("question log writer failed on a batch")
            if alone is not None:
                await self._run_alone(alone)

    async def _run_alone(self, write: _Write) -> None:
        """One action outside any transaction (``_Write.alone``)."""
        assert write.alone is not None
        try:
            result = await write.alone(self._db)
        except Exception as error:
            if write.future is not None and not write.future.done():
                write.future.set_exception(QuestionLogError(f"could not run: {error}"))
        else:
            _resolve(write, result)

    async def _write(self, batch: list[_Write]) -> None:
        """Commit a batch; on a bad row, fall back to row by row.

        Transient errors (locked, disk full, I/O, the database server restarting) are retried
        for as long as the log is open, so a full disk or a database fail-over delays rows
        rather than losing them; once closing, a few more tries.
        """
        delay, attempts = 0.05, 0
        while True:
            try:
                results = await self._commit(batch)
            except Exception as error:
                if not self._db.is_transient(error):
                    break
                attempts += 1
                if self._closed and attempts > CLOSING_RETRIES:
                    break
                logger.warning("question log write failed (%s); retrying in %.2fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            else:
                for write, result in zip(batch, results, strict=True):
                    _resolve(write, result)
                return
        for write in batch:
            try:
                (result,) = await self._commit([write])
            except Exception as error:
                logger.exception("question log dropped a write it could not commit")
                if write.future is not None and not write.future.done():
                    write.future.set_exception(QuestionLogError(f"could not write: {error}"))
            else:
                _resolve(write, result)

    async def _commit(self, batch: Sequence[_Write]) -> list[Any]:
        """One transaction; consecutive plain rows of one statement go through executemany."""
        results: list[Any] = [None] * len(batch)
        if not any(write.sql or write.together or write.guard for write in batch):
            return results
        db = self._db
        await db.begin()
        try:
            index = 0
            while index < len(batch):
                write = batch[index]
                if write.together or write.guard:
                    index = await self._commit_together(batch, index)
                    continue
                if not write.sql:
                    index += 1
                    continue
                if write.future is not None:
                    results[index] = await self._execute(write)
                    index += 1
                    continue
                end = index
                while (
                    end < len(batch) and batch[end].sql == write.sql and batch[end].future is None
                ):
                    end += 1
                await db.executemany(write.sql, [w.parameters for w in batch[index:end]])
                index = end
            await db.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await db.rollback()
            raise
        return results

    async def _commit_together(self, batch: Sequence[_Write], start: int) -> int:
        """The run of ``together`` groups from ``start``, in as few calls as order allows.

        The groups' guards run first, all groups with one guard statement in one call (the
        inbox's done marks touch nothing the held rows need); then the rows of the groups whose
        guard passed run in their order (a pick may need the question row before it), runs of
        one statement as one ``executemany``. The transaction still holds every group whole,
        at a fraction of the cost of one call per row (or per group).
        """
        end = start
        while end < len(batch) and (batch[end].together or batch[end].guard):
            end += 1
        groups = batch[start:end]
        passed = await self._check_guards([g.guard for g in groups if g.guard is not None])
        ordered: list[_Write] = []
        for group in groups:
            guard = group.guard
            if guard is not None:
                keys = passed.get((guard.sql, guard.shared), set())
                if guard.row[0] not in keys:
                    if group.together:
                        logger.info(
                            "an update was finished by another replica; its %d row(s) are "
                            "not written twice",
                            len(group.together),
                        )
                    continue
                keys.discard(guard.row[0])  # a second group with that key: as if run after
            ordered.extend(group.together)
        first = 0
        while first < len(ordered):
            last = first
            while last < len(ordered) and ordered[last].sql == ordered[first].sql:
                last += 1
            await self._db.executemany(
                ordered[first].sql, [part.parameters for part in ordered[first:last]]
            )
            first = last
        return end

    async def _check_guards(
        self, guards: Sequence[Guard]
    ) -> dict[tuple[str, tuple[Any, ...]], set[Any]]:
        """Run the guards, one statement per kind and up to ``BATCH_ROWS`` rows; the keys
        each kind returned."""
        kinds: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}
        for guard in guards:
            kinds.setdefault((guard.sql, guard.shared), []).append(guard.row)
        passed: dict[tuple[str, tuple[Any, ...]], set[Any]] = {}
        for (sql, shared), rows in kinds.items():
            keys = passed.setdefault((sql, shared), set())
            for first in range(0, len(rows), BATCH_ROWS):
                chunk = rows[first : first + BATCH_ROWS]
                values = ", ".join("(" + ", ".join("?" * len(row)) + ")" for row in chunk)
                parameters = [value for row in chunk for value in row] + list(shared)
                found = await self._db.fetch(sql.format(rows=values), parameters)
                keys.update(row[0] for row in found)
        return passed

    async def _execute(self, write: _Write) -> Any:
        """One statement inside the writer's transaction; what its ``returns`` asks for."""
        if write.returns == "rows":
            return await self._db.fetch(write.sql, write.parameters)
        count = await self._db.execute(write.sql, write.parameters)
        if write.returns == "rowcount":
            return count
        if write.returns == "inserted":
            return count == 1
        return None


def _resolve(write: _Write, result: Any) -> None:
    if write.future is not None and not write.future.done():
        write.future.set_result(result)


# --------------------------------------------------------------------------------------------
# Reads for the leaders' report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedQuestion:
    """One question as the report reads it (text redacted, or None where not kept)."""

    asked_at: datetime
    status: str
    item_id: str | None
    picked_item_id: str | None
    """The suggestion picked last after a clarify, if any."""
    off_topic: bool
    """A no_match judged outside the subject when it was logged (False on rows from before)."""
    user_key: str | None
    text: str | None


@dataclass(frozen=True)
class LoggedVote:
    """One thumbs-up or thumbs-down on an answer."""

    voted_at: datetime
    item_id: str | None
    helpful: bool


def _terminal_clause(include_terminal: bool) -> str:
    """The terminal chat is a test channel: left out unless asked for."""
    return "" if include_terminal else " AND questions.chat_kind != 'terminal'"


async def questions_between(
    db: Database, start: datetime, end: datetime, *, include_terminal: bool = False
) -> list[LoggedQuestion]:
    """Every question asked in ``[start, end)``, oldest first, with the suggestion picked last."""
    rows = await db.fetch(
        "SELECT asked_at, status, item_id, "
        "(SELECT picks.item_id FROM picks WHERE picks.question_id = questions.id "
        "ORDER BY picks.picked_at DESC, picks.rowid DESC LIMIT 1), "
        "off_topic, user_key, text FROM questions WHERE asked_at >= ? AND asked_at < ?"
        + _terminal_clause(include_terminal)
        + " ORDER BY asked_at, rowid",
        (to_timestamp(start), to_timestamp(end)),
    )
    return [
        LoggedQuestion(
            asked_at=from_timestamp(row[0]),
            status=row[1],
            item_id=row[2],
            picked_item_id=row[3],
            off_topic=bool(row[4]),
            user_key=row[5],
            text=row[6],
        )
        for row in rows
    ]


async def votes_between(
    db: Database, start: datetime, end: datetime, *, include_terminal: bool = False
) -> list[LoggedVote]:
    """Every vote cast in ``[start, end)`` on a question the log holds, oldest first."""
    rows = await db.fetch(
        "SELECT votes.voted_at, votes.item_id, votes.helpful FROM votes "
        "JOIN questions ON questions.id = votes.question_id "
        "WHERE votes.voted_at >= ? AND votes.voted_at < ?"
        + _terminal_clause(include_terminal)
        + " ORDER BY votes.voted_at, votes.rowid",
        (to_timestamp(start), to_timestamp(end)),
    )
    return [LoggedVote(from_timestamp(row[0]), row[1], bool(row[2])) for row in rows]


async def first_question_at(db: Database, *, include_terminal: bool = False) -> datetime | None:
    """When the oldest question in the log was asked (None for an empty log)."""
    rows = await db.fetch(
        "SELECT MIN(asked_at) FROM questions WHERE 1 = 1" + _terminal_clause(include_terminal),
        (),
    )
    return from_timestamp(rows[0][0]) if rows and rows[0][0] is not None else None


async def latest_unresolved(
    db: Database, *, limit: int, include_terminal: bool = False
) -> list[LoggedQuestion]:
    """The latest stored questions the bot could not answer and nobody resolved by a pick
    (knowledge gaps and off-topic ones alike), newest first."""
    rows = await db.fetch(
        "SELECT asked_at, status, item_id, off_topic, user_key, text FROM questions "
        "WHERE status IN ('clarify', 'no_match') AND text IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM picks WHERE picks.question_id = questions.id)"
        + _terminal_clause(include_terminal)
        + " ORDER BY asked_at DESC, rowid DESC LIMIT ?",
        (int(limit),),
    )
    return [
        LoggedQuestion(
            asked_at=from_timestamp(row[0]),
            status=row[1],
            item_id=row[2],
            picked_item_id=None,
            off_topic=bool(row[3]),
            user_key=row[4],
            text=row[5],
        )
        for row in rows
    ]


# --------------------------------------------------------------------------------------------
# Reads for the maintainers' suggestions (faqbot suggest)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionRow:
    """One logged question as ``faqbot suggest`` reads it (text redacted, or None)."""

    asked_at: datetime
    status: str
    item_id: str | None
    """The item answered with, or the first suggestion of a clarify."""
    picks: tuple[str, ...]
    """The items picked under "Mente du …?", in the order they were picked."""
    voted_down: frozenset[str]
    """The items someone gave a thumbs down on this question's answer."""
    text: str | None


async def suggestion_rows(db: Database, start: datetime, end: datetime) -> list[SuggestionRow]:
    """Every question asked in ``[start, end)`` outside the terminal chat (a maintainer's test
    channel), crisis messages left out, oldest first, with its picks and thumbs-down items."""
    bounds = (to_timestamp(start), to_timestamp(end))
    inside = (
        "questions.asked_at >= ? AND questions.asked_at < ? "
        "AND questions.chat_kind != 'terminal' AND questions.status != 'safety'"
    )
    picks: dict[str, list[str]] = {}
    for question_id, item_id in await db.fetch(
        "SELECT picks.question_id, picks.item_id FROM picks "
        f"JOIN questions ON questions.id = picks.question_id WHERE {inside} "
        "ORDER BY picks.picked_at, picks.rowid",
        bounds,
    ):
        picks.setdefault(question_id, []).append(item_id)
    down: dict[str, set[str]] = {}
    for question_id, item_id in await db.fetch(
        "SELECT votes.question_id, votes.item_id FROM votes "
        f"JOIN questions ON questions.id = votes.question_id WHERE {inside} "
        "AND votes.helpful = 0 AND votes.item_id IS NOT NULL",
        bounds,
    ):
        down.setdefault(question_id, set()).add(item_id)
    rows = await db.fetch(
        "SELECT id, asked_at, status, item_id, text FROM questions "
        f"WHERE {inside} ORDER BY asked_at, rowid",
        bounds,
    )
    return [
        SuggestionRow(
            asked_at=from_timestamp(asked_at),
            status=status,
            item_id=item_id,
            picks=tuple(picks.get(question_id, ())),
            voted_down=frozenset(down.get(question_id, ())),
            text=text,
        )
        for question_id, asked_at, status, item_id, text in rows
    ]
