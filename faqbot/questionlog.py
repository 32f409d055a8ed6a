"""The question log: one SQLite file of what was asked, how it went, and what helped.

Privacy first: no raw Telegram id is ever stored (users become an HMAC-SHA256 key), question
texts are kept only where ``FAQBOT_KEEP_TEXT`` allows, always redacted and never for safety
messages, and ``purge`` deletes texts older than the retention period.

Nothing lost, nothing blocking: ``log_question`` and ``log_pick`` only put a row on an unbounded
``asyncio.Queue``; one writer task drains it and commits whole batches in one transaction (WAL
mode, ``synchronous=FULL``), so an answer never waits for the disk and a killed process loses at
most the rows it had not yet committed. ``flush`` and ``close`` wait for the queue to drain.

The schema is versioned with ``PRAGMA user_version`` and migrated forward on open (``MIGRATIONS``).

The update inbox (``faqbot.inbox``) shares this file, its schema and its writer: an update's rows
are held back while it is handled (``holding``) and committed together with its inbox mark
(``write_together``), so an answered question always has exactly one row.
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
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import aiosqlite

from faqbot.redact import redact
from faqbot.settings import KeepText, Settings

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

# Each migration takes the schema from version i to i + 1; a new database runs them all, so a
# fresh file and an upgraded one go through exactly the same steps.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: questions and votes.
    (
        """CREATE TABLE questions (
            id TEXT PRIMARY KEY,
            asked_at REAL NOT NULL,
            user_key TEXT,
            status TEXT NOT NULL,
            item_id TEXT,
            score REAL NOT NULL,
            text TEXT
        )""",
        """CREATE TABLE votes (
            question_id TEXT NOT NULL,
            user_key TEXT,
            helpful INTEGER NOT NULL,
            voted_at REAL NOT NULL,
            UNIQUE (question_id, user_key)
        )""",
    ),
    # 1 -> 2: chat kind and latency per question, the item a vote was about, suggestion picks,
    # and the indexes the report and the purge use.
    (
        "ALTER TABLE questions ADD COLUMN chat_kind TEXT NOT NULL DEFAULT 'unknown'",
        "ALTER TABLE questions ADD COLUMN latency_ms REAL",
        "ALTER TABLE votes ADD COLUMN item_id TEXT",
        """UPDATE votes SET item_id =
            (SELECT questions.item_id FROM questions WHERE questions.id = votes.question_id)""",
        """CREATE TABLE picks (
            question_id TEXT NOT NULL,
            item_id TEXT NOT NULL,
            user_key TEXT,
            picked_at REAL NOT NULL
        )""",
        "CREATE INDEX questions_by_time ON questions (asked_at)",
        "CREATE INDEX questions_with_text ON questions (asked_at) WHERE text IS NOT NULL",
        "CREATE INDEX picks_by_question ON picks (question_id, picked_at)",
        "CREATE INDEX votes_by_time ON votes (voted_at)",
    ),
    # 2 -> 3 (the leaders' report): whether a no_match was outside the knowledge base's subject
    # (NULL on older rows: counted as in scope), and which leaders have a private chat with the
    # bot, by pseudonymous key, so the weekly digest is sent only where it can arrive.
    (
        "ALTER TABLE questions ADD COLUMN off_topic INTEGER",
        """CREATE TABLE leader_chats (
            user_key TEXT PRIMARY KEY,
            started_at REAL NOT NULL
        )""",
    ),
    # 3 -> 4: the pseudonymous chat each question was answered in, so a button press counts
    # only from that chat; one pick per suggestion per person. Rows that forged or repeated
    # presses left behind (picks and votes for questions never logged, repeated picks) go.
    (
        "ALTER TABLE questions ADD COLUMN chat_key TEXT",
        """DELETE FROM picks WHERE rowid NOT IN (SELECT MIN(rowid) FROM picks
            GROUP BY question_id, item_id, COALESCE(user_key, ''))""",
        "DELETE FROM picks WHERE question_id NOT IN (SELECT id FROM questions)",
        "DELETE FROM votes WHERE question_id NOT IN (SELECT id FROM questions)",
        "CREATE UNIQUE INDEX picks_once ON picks (question_id, item_id, COALESCE(user_key, ''))",
    ),
    # 4 -> 5: the update inbox (faqbot.inbox): an update from Telegram is stored here before it
    # is confirmed and kept, with its payload, only until it is handled.
    (
        """CREATE TABLE inbox (
            update_id INTEGER PRIMARY KEY,
            received_at REAL NOT NULL,
            payload TEXT,
            claimed_by TEXT,
            lease_until REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            done_at REAL
        )""",
        "CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL",
        "CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class QuestionLogError(Exception):
    """The question log or its secret cannot be used; the message is one sentence."""


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


def _companions(path: Path) -> tuple[Path, ...]:
    """The database with its WAL and shared-memory files."""
    return (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


async def connect(path: Path) -> aiosqlite.Connection:
    """Open (creating if needed) the database in WAL mode and migrate it to ``SCHEMA_VERSION``.

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
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA secure_delete = ON")
        await _use_wal(db, path)
        await db.execute("PRAGMA synchronous = FULL")
        await migrate(db, path)
    except BaseException:
        await db.close()
        raise
    for file in _companions(path):
        secure_file(file)
    return db


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


async def schema_version(db: aiosqlite.Connection) -> int:
    """The database's ``PRAGMA user_version``."""
    cursor = await db.execute("PRAGMA user_version")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, path: Path | str = "the question log") -> None:
    """Run every migration the database lacks, each in its own write transaction."""
    if await schema_version(db) > SCHEMA_VERSION:
        raise QuestionLogError(
            f"{path} has schema version {await schema_version(db)}, but this faqbot knows "
            f"only up to {SCHEMA_VERSION}; upgrade faqbot."
        )
    for target, statements in enumerate(MIGRATIONS, start=1):
        if await schema_version(db) >= target:
            continue
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if await schema_version(db) < target:
                for statement in statements:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {target}")
            await db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise


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


async def open_log(settings: Settings) -> QuestionLog:
    """The question log the settings name, with its secret; any failure to open it (a
    read-only, full or missing data directory, a damaged file) is one ``QuestionLogError``."""
    path = settings.database_path
    try:
        if path.is_dir():  # checked first: aiosqlite would fail on it in its own thread
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        secret = load_or_create_secret(settings)
        return await QuestionLog.open(
            path,
            secret=secret,
            keep_text=settings.keep_text,
            retention_days=settings.retention_days,
        )
    except (OSError, sqlite3.Error) as error:
        # A failed aiosqlite connect stops its worker thread without waiting for it; give the
        # thread its moment, so it does not report to an event loop that is already closed.
        await asyncio.sleep(0.1)
        raise open_failure(path, error) from error


# --------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------


@dataclass
class _Write:
    """One queued statement; ``future`` is set when it has been committed (or failed).

    A write with ``together`` stands for those writes, committed in order in one transaction
    (all or none); ``rows`` makes the future's result the statement's rows (``RETURNING``).
    """

    sql: str
    parameters: tuple[Any, ...]
    future: asyncio.Future[Any] | None = None
    result: Callable[[sqlite3.Cursor | aiosqlite.Cursor], Any] | None = None
    together: tuple[_Write, ...] = ()
    rows: bool = False
    anytime: bool = False
    """In a ``together`` group: may run after the rest of the transaction (nothing depends on
    it, it depends on nothing there); the inbox's marks."""
    outside_transaction: bool = False
    """Run alone, between transactions (a WAL checkpoint cannot run inside one)."""


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
_VOTABLE = """SELECT 1 FROM questions AS q WHERE q.id = ? AND q.chat_key IS ?
    AND (q.status = 'answered'
         OR (q.status = 'clarify' AND EXISTS (SELECT 1 FROM picks WHERE question_id = q.id)))"""
# A pick counts for a question the bot asked back, in the chat it came from.
_PICKABLE = "SELECT 1 FROM questions WHERE id = ? AND status = 'clarify' AND chat_key IS ?"
CHECKPOINT_ATTEMPTS = 50
"""How often purge retries a WAL checkpoint that readers or writers kept from completing."""


_STOP = object()

Statement = tuple[str, Sequence[Any]]
"""One SQL statement and its parameters."""


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


class QuestionLog:
    """The open question log. Create with ``await QuestionLog.open(...)``; ``await close()``.

    The sync writers (``log_question``, ``log_pick``) may be called from any thread; the async
    methods belong to the event loop that opened the log.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        path: Path,
        secret: bytes,
        keep_text: KeepText,
        retention_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.keep_text = KeepText(keep_text)
        self.retention_days = retention_days
        self._db = db
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
        path: Path,
        *,
        secret: bytes,
        keep_text: KeepText,
        retention_days: int,
        clock: Callable[[], datetime] | None = None,
    ) -> QuestionLog:
        """Open or create the log at ``path``, migrate it, and start its writer task."""
        if not secret:
            raise QuestionLogError("the question log needs a non-empty secret.")
        if retention_days < 1:
            raise QuestionLogError(f"retention must be at least 1 day, got {retention_days}.")
        db = await connect(Path(path))
        return cls(
            db,
            path=Path(path),
            secret=secret,
            keep_text=keep_text,
            retention_days=retention_days,
            clock=clock or _utc_now,
        )

    @property
    def connection(self) -> aiosqlite.Connection:
        """The connection, for readers such as the report (call ``flush`` first)."""
        return self._db

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
            "INSERT OR IGNORE INTO picks (question_id, item_id, user_key, picked_at) "
            f"SELECT ?, ?, ?, ? WHERE EXISTS ({_PICKABLE})",
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
        write.result = _inserted
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
                "INSERT OR IGNORE INTO votes (question_id, user_key, helpful, voted_at, "
                "item_id) SELECT ?, ?, ?, ?, COALESCE(?, (SELECT item_id FROM picks "
                "WHERE question_id = ? ORDER BY picked_at DESC, rowid DESC LIMIT 1), "
                f"(SELECT item_id FROM questions WHERE id = ?)) WHERE EXISTS ({_VOTABLE})",
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
                result=_inserted,
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
        cursor = await self._db.execute(sql, parameters)
        row = await cursor.fetchone()
        await cursor.close()
        return Counted.REPEATED if row else Counted.REFUSED

    async def purge(self, now: datetime | None = None) -> int:
        """Delete question texts older than the retention period; return how many.

        The texts are overwritten in the database (``secure_delete``), then the WAL is
        checkpointed into it and truncated to zero bytes, so no copy of a purged text is left
        in the WAL either, even beside a running bot that keeps writing.
        """
        cutoff = (now or self._clock()) - timedelta(days=self.retention_days)
        removed = int(
            await self._submit(
                _Write(
                    "UPDATE questions SET text = NULL WHERE text IS NOT NULL AND asked_at < ?",
                    (to_timestamp(cutoff),),
                    result=lambda cursor: cursor.rowcount,
                )
            )
        )
        await self.checkpoint()  # also when nothing was due: a checkpoint earlier readers blocked
        return removed

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False if it never got its turn.

        A checkpoint waits (busy timeout) for other connections' transactions; when readers
        keep it from finishing, it is retried a while before giving up with a warning.
        """
        for attempt in range(CHECKPOINT_ATTEMPTS):
            busy, _, _ = await self._submit(
                _Write("PRAGMA wal_checkpoint(TRUNCATE)", (), outside_transaction=True)
            )
            if not busy:
                return True
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
        logger.warning("the question log's WAL could not be checkpointed; purged texts remain")
        return False

    async def purge_daily(self, every: timedelta = timedelta(days=1)) -> None:
        """Purge now and then once per ``every``, until cancelled (a task the bot can start)."""
        while True:
            try:
                removed = await self.purge()
                if removed:
                    logger.info(
                        "purged %d question texts older than %d days", removed, self.retention_days
                    )
            except QuestionLogError:
                return
            except Exception:
                logger.exception("daily purge failed; retrying next time")
            await asyncio.sleep(every.total_seconds())

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

    def write_together(self, held: HeldWrites, statements: Sequence[Statement] = ()) -> None:
        """Queue the held rows and then ``statements`` as one transaction (``flush`` waits).

        The statements (the inbox's marks) must depend on nothing the held rows write, and
        nothing on them: they may run at the end of the transaction (see ``_commit_together``).
        """
        parts = [
            *held.writes,
            *(_Write(sql, tuple(parameters), anytime=True) for sql, parameters in statements),
        ]
        held.writes = []
        if not parts:
            return
        if self._closed:
            raise QuestionLogError("the question log is closed.")
        self._enqueue_now(_Write("", (), together=tuple(parts)))

    async def write(self, sql: str, parameters: Sequence[Any] = (), *, rows: bool = False) -> Any:
        """Run one statement after everything queued before it and wait for its commit.

        Returns the statement's rows when ``rows`` (for ``RETURNING``), else its row count.
        """
        return await self._submit(
            _Write(
                sql,
                tuple(parameters),
                rows=rows,
                result=None if rows else (lambda cursor: cursor.rowcount),
            )
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

    async def _submit(self, write: _Write) -> Any:
        write.future = asyncio.get_running_loop().create_future()
        self._enqueue(write)
        return await write.future

    # -- reads ----------------------------------------------------------------------------

    async def unanswered(self, limit: int = 20) -> list[UnansweredQuestion]:
        """The latest stored (redacted) clarify and no_match questions, newest first."""
        await self.flush()
        cursor = await self._db.execute(
            "SELECT id, asked_at, status, text, item_id, score FROM questions "
            "WHERE status IN ('clarify', 'no_match') AND text IS NOT NULL "
            "ORDER BY asked_at DESC, rowid DESC LIMIT ?",
            (int(limit),),
        )
        rows = await cursor.fetchall()
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
        cursor = await self._db.execute(sql, parameters)
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # -- leaders' private chats (for the weekly digest) ------------------------------------

    def record_leader_chat(self, user_id: int) -> None:
        """Queue that this leader has a private chat with the bot (stored by key, not by id)."""
        key = self.user_key(user_id)
        self._enqueue(
            _Write(
                "INSERT OR IGNORE INTO leader_chats (user_key, started_at) VALUES (?, ?)",
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
        cursor = await self._db.execute(
            f"SELECT user_key FROM leader_chats WHERE user_key IN ({marks})", tuple(by_key)
        )
        rows = await cursor.fetchall()
        await cursor.close()
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
                elif item.outside_transaction:
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
        """One statement outside any transaction; its first row is the result."""
        try:
            cursor = await self._db.execute(write.sql, write.parameters)
            row = await cursor.fetchone()
            await cursor.close()
        except Exception as error:
            if write.future is not None and not write.future.done():
                write.future.set_exception(QuestionLogError(f"could not run: {error}"))
        else:
            _resolve(write, tuple(row) if row is not None else None)

    async def _write(self, batch: list[_Write]) -> None:
        """Commit a batch; on a bad row, fall back to row by row.

        Transient errors (locked, disk full, I/O) are retried for as long as the log is open,
        so a full disk delays rows rather than losing them; once closing, a few more tries.
        """
        delay, attempts = 0.05, 0
        while True:
            try:
                results = await self._commit(batch)
            except sqlite3.OperationalError as error:
                attempts += 1
                if self._closed and attempts > CLOSING_RETRIES:
                    break
                logger.warning("question log write failed (%s); retrying in %.2fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            except Exception:
                break
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
        if not any(write.sql or write.together for write in batch):
            return results
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            index = 0
            while index < len(batch):
                write = batch[index]
                if write.together:
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
                await self._db.executemany(write.sql, [w.parameters for w in batch[index:end]])
                index = end
            await self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                await self._db.execute("ROLLBACK")
            raise
        return results

    async def _commit_together(self, batch: Sequence[_Write], start: int) -> int:
        """The run of ``together`` writes from ``start``, in as few calls as order allows.

        The held rows run in their order (a pick may need the question row before it), runs of
        one statement as one ``executemany``; the ``anytime`` marks run last, one
        ``executemany`` each. The transaction still holds every group whole, at a fraction of
        the cost of one call per row (an update's question row and its inbox mark alternate).
        """
        end = start
        ordered: list[_Write] = []
        marks: dict[str, list[tuple[Any, ...]]] = {}
        while end < len(batch) and batch[end].together:
            for part in batch[end].together:
                if part.anytime:
                    marks.setdefault(part.sql, []).append(part.parameters)
                else:
                    ordered.append(part)
            end += 1
        first = 0
        while first < len(ordered):
            last = first
            while last < len(ordered) and ordered[last].sql == ordered[first].sql:
                last += 1
            await self._db.executemany(
                ordered[first].sql, [part.parameters for part in ordered[first:last]]
            )
            first = last
        for sql, rows in marks.items():
            await self._db.executemany(sql, rows)
        return end

    async def _execute(self, write: _Write) -> Any:
        """One statement inside the writer's transaction; its rows or its ``result``."""
        cursor = await self._db.execute(write.sql, write.parameters)
        try:
            if write.rows:
                return await cursor.fetchall()
            return write.result(cursor) if write.result else None
        finally:
            await cursor.close()


def _inserted(cursor: sqlite3.Cursor | aiosqlite.Cursor) -> bool:
    return cursor.rowcount == 1


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


async def _fetch(db: aiosqlite.Connection, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
    cursor = await db.execute(sql, parameters)
    rows = await cursor.fetchall()
    await cursor.close()
    return list(rows)


async def questions_between(
    db: aiosqlite.Connection, start: datetime, end: datetime, *, include_terminal: bool = False
) -> list[LoggedQuestion]:
    """Every question asked in ``[start, end)``, oldest first, with the suggestion picked last."""
    rows = await _fetch(
        db,
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
    db: aiosqlite.Connection, start: datetime, end: datetime, *, include_terminal: bool = False
) -> list[LoggedVote]:
    """Every vote cast in ``[start, end)`` on a question the log holds, oldest first."""
    rows = await _fetch(
        db,
        "SELECT votes.voted_at, votes.item_id, votes.helpful FROM votes "
        "JOIN questions ON questions.id = votes.question_id "
        "WHERE votes.voted_at >= ? AND votes.voted_at < ?"
        + _terminal_clause(include_terminal)
        + " ORDER BY votes.voted_at, votes.rowid",
        (to_timestamp(start), to_timestamp(end)),
    )
    return [LoggedVote(from_timestamp(row[0]), row[1], bool(row[2])) for row in rows]


async def first_question_at(
    db: aiosqlite.Connection, *, include_terminal: bool = False
) -> datetime | None:
    """When the oldest question in the log was asked (None for an empty log)."""
    rows = await _fetch(
        db,
        "SELECT MIN(asked_at) FROM questions WHERE 1 = 1" + _terminal_clause(include_terminal),
        (),
    )
    return from_timestamp(rows[0][0]) if rows and rows[0][0] is not None else None


async def latest_unresolved(
    db: aiosqlite.Connection, *, limit: int, include_terminal: bool = False
) -> list[LoggedQuestion]:
    """The latest stored questions the bot could not answer and nobody resolved by a pick
    (knowledge gaps and off-topic ones alike), newest first."""
    rows = await _fetch(
        db,
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


async def suggestion_rows(
    db: aiosqlite.Connection, start: datetime, end: datetime
) -> list[SuggestionRow]:
    """Every question asked in ``[start, end)`` outside the terminal chat (a maintainer's test
    channel), crisis messages left out, oldest first, with its picks and thumbs-down items."""
    bounds = (to_timestamp(start), to_timestamp(end))
    inside = (
        "questions.asked_at >= ? AND questions.asked_at < ? "
        "AND questions.chat_kind != 'terminal' AND questions.status != 'safety'"
    )
    cursor = await db.execute(
        "SELECT picks.question_id, picks.item_id FROM picks "
        f"JOIN questions ON questions.id = picks.question_id WHERE {inside} "
        "ORDER BY picks.picked_at, picks.rowid",
        bounds,
    )
    picks: dict[str, list[str]] = {}
    for question_id, item_id in await cursor.fetchall():
        picks.setdefault(question_id, []).append(item_id)
    await cursor.close()
    cursor = await db.execute(
        "SELECT votes.question_id, votes.item_id FROM votes "
        f"JOIN questions ON questions.id = votes.question_id WHERE {inside} "
        "AND votes.helpful = 0 AND votes.item_id IS NOT NULL",
        bounds,
    )
    down: dict[str, set[str]] = {}
    for question_id, item_id in await cursor.fetchall():
        down.setdefault(question_id, set()).add(item_id)
    await cursor.close()
    cursor = await db.execute(
        "SELECT id, asked_at, status, item_id, text FROM questions "
        f"WHERE {inside} ORDER BY asked_at, rowid",
        bounds,
    )
    rows = await cursor.fetchall()
    await cursor.close()
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
