"""The question log: privacy rules, never blocking or dropping, crash safety, migrations."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import select
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import databases
import psycopg
import pytest

from faqbot import questionlog
from faqbot.questionlog import (
    SCHEMA_VERSION,
    Counted,
    QuestionLog,
    QuestionLogError,
    load_or_create_secret,
)
from faqbot.settings import DatabaseUrl, KeepText, Settings
from faqbot.storage import schema

SECRET = b"test-secret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the log."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def open_log(path: Path, keep_text: KeepText = KeepText.UNANSWERED, **options) -> QuestionLog:
    return await QuestionLog.open(
        path, secret=SECRET, keep_text=keep_text, retention_days=90, **options
    )


def ask(log: QuestionLog, question: str = "Hvad laver en peer?", **fields) -> str:
    values = {
        "status": "answered",
        "item_id": "peer-opgaver",
        "score": 0.9,
        "latency_ms": 1.5,
        "chat_kind": "private",
        "user_id": 42,
    }
    values.update(fields)
    return log.log_question(question=question, **values)


def rows(location: Path | DatabaseUrl, sql: str, parameters: tuple = ()) -> list[tuple]:
    return databases.rows(location, sql, parameters)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "faqbot.sqlite3"


# --------------------------------------------------------------------------------------------
# Writing: never blocking, never dropping
# --------------------------------------------------------------------------------------------


async def test_log_question_only_queues_and_flush_commits(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        question_id = ask(log)
        assert len(question_id) == 16
        int(question_id, 16)
        # No await since the call: the writer cannot have run, so the call did not touch the disk.
        assert rows(log_location, "SELECT COUNT(*) FROM questions") == [(0,)]
        assert log.pending == 1
        await log.flush()
        assert rows(log_location, "SELECT id, status, item_id, chat_kind FROM questions") == [
            (question_id, "answered", "peer-opgaver", "private")
        ]
    finally:
        await log.close()


async def test_thousand_concurrent_questions_are_all_stored(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location, KeepText.ALL)

    async def one(number: int) -> str:
        await asyncio.sleep(0)
        return ask(log, f"spørgsmål nummer {number}", user_id=number)

    ids = await asyncio.gather(*(one(n) for n in range(1000)))
    await log.close()
    assert len(set(ids)) == 1000
    stored = rows(log_location, "SELECT id FROM questions")
    assert len(stored) == 1000
    assert {row[0] for row in stored} == set(ids)


async def test_log_question_from_another_thread(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        ids = await asyncio.to_thread(lambda: [ask(log, user_id=n) for n in range(10)])
        await log.flush()
        assert {row[0] for row in rows(log_location, "SELECT id FROM questions")} == set(ids)
    finally:
        await log.close()


async def test_close_flushes_what_is_queued(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    for number in range(250):
        ask(log, user_id=number)
    log.log_pick(question_id=ask(log, status="clarify"), item_id="peer-opgaver", user_id=1)
    await log.close()
    await log.close()  # twice is harmless
    assert rows(log_location, "SELECT COUNT(*) FROM questions") == [(251,)]
    assert rows(log_location, "SELECT COUNT(*) FROM picks") == [(1,)]
    with pytest.raises(QuestionLogError, match="closed"):
        ask(log)


async def test_a_bad_row_does_not_take_its_batch_with_it(
    log_location: DatabaseUrl, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = await open_log(log_location)
    try:
        ids = iter(["a" * 16, "b" * 16, "a" * 16, "c" * 16])
        monkeypatch.setattr(questionlog.secrets, "token_hex", lambda _n: next(ids))
        for _ in range(4):
            ask(log)
        with caplog.at_level(logging.ERROR, logger="faqbot.questionlog"):
            await log.flush()
        stored = sorted(row[0] for row in rows(log_location, "SELECT id FROM questions"))
        assert stored == ["a" * 16, "b" * 16, "c" * 16]
        assert "could not commit" in caplog.text
    finally:
        await log.close()


async def test_transient_write_errors_are_retried_not_dropped(
    log_location: DatabaseUrl, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = await open_log(log_location)
    real_commit = log._commit
    failures = iter([True, True])

    transient = sqlite3.OperationalError if log_location.is_sqlite else psycopg.OperationalError

    async def flaky(batch):
        if next(failures, False):
            raise transient("database or disk is full")
        return await real_commit(batch)

    monkeypatch.setattr(log, "_commit", flaky)
    try:
        for number in range(20):
            ask(log, user_id=number)
        with caplog.at_level(logging.WARNING, logger="faqbot.questionlog"):
            await log.flush()
        assert rows(log_location, "SELECT COUNT(*) FROM questions") == [(20,)]
        assert caplog.text.count("disk is full") == 2
    finally:
        await log.close()


async def test_unknown_status_or_chat_kind_fails_at_the_call(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        with pytest.raises(ValueError, match="unknown status"):
            ask(log, status="maybe")
        with pytest.raises(ValueError, match="unknown chat kind"):
            ask(log, chat_kind="fax")
        ask(log, chat_kind="supergroup")
        await log.flush()
        assert rows(log_location, "SELECT chat_kind FROM questions") == [("group",)]
    finally:
        await log.close()


KILLED_WRITER = """
import asyncio, sys
from pathlib import Path
from faqbot.questionlog import QuestionLog
from faqbot.settings import KeepText

async def main():
    log = await QuestionLog.open(
        Path(sys.argv[1]), secret=b"test-secret", keep_text=KeepText.ALL, retention_days=90
    )
    committed = 0
    while True:
        for number in range(committed, committed + 200):
            log.log_question(question=f"spørgsmål {number}", status="no_match", item_id=None,
                             score=0.1, latency_ms=1.0, chat_kind="private", user_id=number)
        await log.flush()
        committed += 200
        print(committed, flush=True)

asyncio.run(main())
"""


def test_writer_killed_mid_burst_keeps_every_committed_row(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    printed = 0
    deadline = time.monotonic() + 30
    try:
        while printed < 2000 and time.monotonic() < deadline:
            ready, _, _ = select.select([child.stdout], [], [], 1.0)
            if ready:
                line = child.stdout.readline()
                assert line, "the writer exited early"
                printed = int(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    for line in child.stdout.read().split():  # lines printed before the kill landed
        printed = max(printed, int(line))
    child.stdout.close()
    assert printed >= 2000, "the writer was too slow to print its committed counts"
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    (stored,) = rows(db_path, "SELECT COUNT(*) FROM questions")[0]
    assert stored >= printed
    numbers = {int(t.split()[1]) for (t,) in rows(db_path, "SELECT text FROM questions")}
    assert set(range(printed)) <= numbers

    async def reopen() -> None:
        log = await open_log(db_path)
        ask(log)
        await log.close()

    asyncio.run(reopen())
    assert rows(db_path, "SELECT COUNT(*) FROM questions") == [(stored + 1,)]


# --------------------------------------------------------------------------------------------
# Privacy
# --------------------------------------------------------------------------------------------


def test_user_key_is_an_hmac_of_the_id(db_path: Path) -> None:
    async def keys() -> tuple:
        log = await open_log(db_path)
        other = await QuestionLog.open(
            db_path.with_name("other.sqlite3"),
            secret=b"another",
            keep_text=KeepText.NONE,
            retention_days=90,
        )
        try:
            return log.user_key(123456789), log.user_key(None), other.user_key(123456789)
        finally:
            await log.close()
            await other.close()

    key, none, other = asyncio.run(keys())
    assert key == hmac.new(SECRET, b"123456789", hashlib.sha256).hexdigest()
    assert none is None
    assert other != key
    assert "123456789" not in key


async def test_no_raw_telegram_id_in_the_database_files(db_path: Path) -> None:
    user_id = 7_123_456_789
    log = await open_log(db_path, KeepText.ALL)
    question_id = ask(log, "Hvordan introducerer vi en peer?", user_id=user_id)
    log.log_pick(question_id=question_id, item_id="peer-opgaver", user_id=user_id)
    assert await log.record_vote(question_id=question_id, user_id=user_id, helpful=True)
    await log.flush()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith("faq"))
    await log.close()
    raw += db_path.read_bytes()
    assert log.user_key(user_id).encode() in raw  # the pseudonym is there...
    for encoded in (
        str(user_id).encode(),
        str(user_id).encode("utf-16-le"),
        struct.pack(">q", user_id),
        struct.pack("<q", user_id),
        struct.pack(">d", float(user_id)),
    ):
        assert encoded not in raw  # ...the id in no form


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (KeepText.NONE, set()),
        (KeepText.UNANSWERED, {"clarify", "no_match"}),
        (KeepText.ALL, {"answered", "clarify", "no_match"}),
    ],
)
async def test_keep_text_policy(
    log_location: DatabaseUrl, policy: KeepText, kept: set[str]
) -> None:
    log = await open_log(log_location, policy)
    for status in questionlog.STATUSES:
        ask(log, f"tekst for {status}", status=status)
    await log.close()
    stored = dict(rows(log_location, "SELECT status, text FROM questions"))
    assert {status for status, text in stored.items() if text is not None} == kept
    for status in kept:
        assert stored[status] == f"tekst for {status}"


async def test_safety_message_is_counted_but_its_text_never_stored(db_path: Path) -> None:
    log = await open_log(db_path, KeepText.ALL)
    ask(log, "jeg kan ikke mere og vil ikke leve", status="safety", item_id="x", score=1.0)
    ask(log)
    assert await log.count("safety") == 1
    assert await log.count() == 2
    await log.close()
    assert rows(db_path, "SELECT text, item_id FROM questions WHERE status = 'safety'") == [
        (None, None)
    ]
    assert b"leve" not in db_path.read_bytes()


async def test_stored_texts_are_redacted_and_cut(db_path: Path) -> None:
    log = await open_log(db_path)
    ask(log, "Ring til Anna på 23 45 67 89 eller anna@region.dk", status="no_match")
    ask(log, "x" * 5000, status="clarify")
    await log.close()
    texts = [t for (t,) in rows(db_path, "SELECT text FROM questions ORDER BY rowid")]
    assert texts[0] == "Ring til [navn] på [telefonnr.] eller [e-mail]"
    assert len(texts[1]) == questionlog.MAX_TEXT_CHARS
    assert b"23 45 67 89" not in db_path.read_bytes()


# --------------------------------------------------------------------------------------------
# Votes, picks, unanswered, retention
# --------------------------------------------------------------------------------------------


async def test_vote_is_recorded_once_per_user_per_answer(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        first = ask(log)
        second = ask(log, item_id="peer-loen")
        assert await log.record_vote(question_id=first, user_id=1, helpful=True)
        assert not await log.record_vote(question_id=first, user_id=1, helpful=False)
        assert await log.record_vote(question_id=first, user_id=2, helpful=False)
        assert await log.record_vote(question_id=second, user_id=1, helpful=False)
        assert await log.record_vote(question_id=first, user_id=None, helpful=True)
        assert not await log.record_vote(question_id=first, user_id=None, helpful=True)
        votes = rows(
            log_location, "SELECT question_id, helpful, item_id FROM votes ORDER BY rowid", ()
        )
        assert votes == [
            (first, 1, "peer-opgaver"),
            (first, 0, "peer-opgaver"),
            (second, 0, "peer-loen"),
            (first, 1, "peer-opgaver"),
        ]
    finally:
        await log.close()


async def test_vote_after_a_pick_is_about_the_picked_item(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        question_id = ask(log, "hvad får de i løn", status="clarify", item_id="peer-opgaver")
        log.log_pick(question_id=question_id, item_id="peer-loen", user_id=5)
        # No flush in between: the queue keeps the order, so the pick is there for the vote.
        assert await log.record_vote(question_id=question_id, user_id=5, helpful=False)
        assert rows(log_location, "SELECT item_id FROM votes") == [("peer-loen",)]
        assert rows(log_location, "SELECT question_id, item_id FROM picks") == [
            (question_id, "peer-loen")
        ]
    finally:
        await log.close()


async def test_unanswered_lists_latest_redacted_texts(log_location: DatabaseUrl) -> None:
    clock = Clock()
    log = await open_log(log_location, clock=clock)
    try:
        for number, status in enumerate(["no_match", "answered", "clarify", "safety", "no_match"]):
            clock.now = NOW + timedelta(minutes=number)
            ask(log, f"spørgsmål {number} til @bo", status=status)
        listed = await log.unanswered(limit=2)
        assert [(q.status, q.text) for q in listed] == [
            ("no_match", "spørgsmål 4 til [bruger]"),
            ("clarify", "spørgsmål 2 til [bruger]"),
        ]
        assert listed[0].asked_at == NOW + timedelta(minutes=4)
        assert str(listed[1]) == "spørgsmål 2 til [bruger]"
        assert len(await log.unanswered()) == 3
    finally:
        await log.close()


async def test_purge_deletes_texts_older_than_retention_and_keeps_counts(
    log_location: DatabaseUrl,
) -> None:
    clock = Clock()
    log = await open_log(log_location, KeepText.ALL, clock=clock)
    try:
        for age in (200, 91, 89, 1):
            clock.now = NOW - timedelta(days=age)
            ask(log, f"{age} dage gammel", status="no_match")
        clock.now = NOW
        assert await log.purge() == 2
        assert await log.purge() == 0
        stored = rows(log_location, "SELECT text FROM questions ORDER BY asked_at")
        assert stored == [(None,), (None,), ("89 dage gammel",), ("1 dage gammel",)]
        assert await log.purge(now=NOW + timedelta(days=1, hours=12)) == 1
        assert await log.count() == 4
    finally:
        await log.close()


async def test_purge_if_due_purges_alone_every_time(log_location: DatabaseUrl) -> None:
    """Without replicas to agree with, each try purges (the bot's job tries hourly)."""
    clock = Clock()
    log = await open_log(log_location, KeepText.ALL, clock=clock)
    try:
        clock.now = NOW - timedelta(days=100)
        ask(log, "gammel", status="no_match")
        clock.now = NOW
        assert await log.purge_if_due() == 1
        assert rows(log_location, "SELECT text FROM questions") == [(None,)]
        assert await log.purge_if_due() == 0
    finally:
        await log.close()


# --------------------------------------------------------------------------------------------
# Schema and migrations
# --------------------------------------------------------------------------------------------


async def test_new_database_is_current_and_in_wal_mode(db_path: Path) -> None:
    log = await open_log(db_path)
    await log.close()
    assert rows(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    tables = {
        name for (name,) in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert tables == {
        "questions",
        "votes",
        "picks",
        "leader_chats",
        "inbox",
        "meta",
        "leases",
        "job_runs",
        "counters",
    }


VERSION_1 = """
CREATE TABLE questions (
    id TEXT PRIMARY KEY, asked_at REAL NOT NULL, user_key TEXT, status TEXT NOT NULL,
    item_id TEXT, score REAL NOT NULL, text TEXT
);
CREATE TABLE votes (
    question_id TEXT NOT NULL, user_key TEXT, helpful INTEGER NOT NULL, voted_at REAL NOT NULL,
    UNIQUE (question_id, user_key)
);
INSERT INTO questions
VALUES ('00000000000000aa', 1790000000.0, 'k1', 'answered', 'peer-loen', 0.8, NULL);
INSERT INTO questions
VALUES ('00000000000000bb', 1790000100.0, 'k2', 'no_match', NULL, 0.1, 'hvad nu');
INSERT INTO votes VALUES ('00000000000000aa', 'k1', 0, 1790000050.0);
PRAGMA user_version = 1;
"""


async def test_version_1_database_is_migrated_forward(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:  # written by hand, as the first release did
        db.executescript(VERSION_1)
    db.close()
    log = await open_log(db_path)
    try:
        # No vote buttons were ever sent for a question without an answer.
        refused = await log.record_vote(question_id="00000000000000bb", user_id=9, helpful=True)
        assert refused is Counted.REFUSED
        assert await log.record_vote(question_id="00000000000000aa", user_id=None, helpful=True)
        new_id = ask(log, "nyt spørgsmål", status="clarify", latency_ms=3.0)
        log.log_pick(question_id=new_id, item_id="peer-loen", user_id=9)
        assert [q.text for q in await log.unanswered()] == ["nyt spørgsmål", "hvad nu"]
    finally:
        await log.close()
    assert rows(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    old = rows(
        db_path,
        "SELECT id, chat_kind, latency_ms, item_id FROM questions WHERE id LIKE '0000%' "
        "ORDER BY id",
    )
    assert old == [
        ("00000000000000aa", "unknown", None, "peer-loen"),
        ("00000000000000bb", "unknown", None, None),
    ]
    # The old vote learnt which item it was about.
    assert rows(db_path, "SELECT item_id FROM votes WHERE user_key = 'k1'") == [("peer-loen",)]
    assert rows(db_path, "SELECT COUNT(*) FROM picks") == [(1,)]


async def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(QuestionLogError, match="upgrade faqbot"):
        await open_log(db_path)


async def test_two_opens_at_once_migrate_once(log_location: DatabaseUrl) -> None:
    first, second = await asyncio.gather(open_log(log_location), open_log(log_location))
    ask(first)
    ask(second)
    await asyncio.gather(first.close(), second.close())
    assert rows(log_location, "SELECT COUNT(*) FROM questions") == [(2,)]
    version = "PRAGMA user_version" if log_location.is_sqlite else "SELECT * FROM faqbot_schema"
    assert rows(log_location, version) == [(SCHEMA_VERSION,)]


# --------------------------------------------------------------------------------------------
# The secret
# --------------------------------------------------------------------------------------------


def test_secret_from_settings_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret="from-env")
    assert load_or_create_secret(settings) == b"from-env"
    assert not (tmp_path / "secret").exists()


def test_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_or_create_secret(settings)
    path = tmp_path / "data" / "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert load_or_create_secret(settings) == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]


def test_secret_file_with_loose_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("abc\n")
    path.chmod(0o644)
    assert load_or_create_secret(Settings(data_dir=tmp_path)) == b"abc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("")
    with pytest.raises(QuestionLogError, match="is empty"):
        load_or_create_secret(Settings(data_dir=tmp_path))


async def test_open_refuses_an_empty_secret(db_path: Path) -> None:
    with pytest.raises(QuestionLogError, match="secret"):
        await QuestionLog.open(db_path, secret=b"", keep_text=KeepText.NONE, retention_days=90)


# --------------------------------------------------------------------------------------------
# Buttons: only presses on what the bot sent, in the chat it sent it to, count
# --------------------------------------------------------------------------------------------

CHAT = -100_200_300
OTHER_CHAT = -100_999_999


async def test_a_vote_counts_only_for_an_answer_sent_to_that_chat(
    log_location: DatabaseUrl,
) -> None:
    log = await open_log(log_location)
    try:
        answered = ask(log, chat_id=CHAT)
        no_match = ask(log, status="no_match", item_id=None, chat_id=CHAT)
        clarify = ask(log, status="clarify", chat_id=CHAT)
        safety = ask(log, status="safety", item_id=None, chat_id=CHAT)

        async def vote(question_id: str, user: int = 1, chat: int = CHAT) -> Counted:
            return await log.record_vote(
                question_id=question_id, user_id=user, helpful=True, chat_id=chat
            )

        assert await vote("0123456789abcdef") is Counted.REFUSED  # forged: never logged
        assert await vote(answered, chat=OTHER_CHAT) is Counted.REFUSED  # another chat
        assert await vote(answered, chat=None) is Counted.REFUSED  # type: ignore[arg-type]
        assert await vote(no_match) is Counted.REFUSED  # no vote buttons were sent
        assert await vote(safety) is Counted.REFUSED
        assert await vote(clarify) is Counted.REFUSED  # nothing picked, so nothing to judge
        assert await vote(answered) is Counted.RECORDED
        assert await vote(answered) is Counted.REPEATED
        assert await vote(answered, user=2) is Counted.RECORDED  # another member of the group
        assert await log.record_pick(
            question_id=clarify, item_id="peer-loen", user_id=1, chat_id=CHAT
        )
        assert await vote(clarify) is Counted.RECORDED
    finally:
        await log.close()
    assert rows(log_location, "SELECT question_id, item_id FROM votes ORDER BY rowid") == [
        (answered, "peer-opgaver"),
        (answered, "peer-opgaver"),
        (clarify, "peer-loen"),
    ]


async def test_three_thousand_forged_votes_store_nothing(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        outcomes = await asyncio.gather(
            *(
                log.record_vote(
                    question_id=f"{number:016x}", user_id=number, helpful=True, chat_id=CHAT
                )
                for number in range(3000)
            )
        )
    finally:
        await log.close()
    assert set(outcomes) == {Counted.REFUSED}
    assert rows(log_location, "SELECT COUNT(*) FROM votes") == [(0,)]


async def test_a_pick_counts_once_per_person_and_suggestion(log_location: DatabaseUrl) -> None:
    log = await open_log(log_location)
    try:
        clarify = ask(log, status="clarify", chat_id=CHAT)
        answered = ask(log, chat_id=CHAT)

        async def pick(
            question_id: str, item: str = "peer-loen", user: int = 1, chat: int = CHAT
        ) -> Counted:
            return await log.record_pick(
                question_id=question_id, item_id=item, user_id=user, chat_id=chat
            )

        assert await pick(clarify) is Counted.RECORDED
        repeats = await asyncio.gather(*(pick(clarify) for _ in range(300)))
        assert set(repeats) == {Counted.REPEATED}
        assert await pick(clarify, item="peer-opgaver") is Counted.RECORDED
        assert await pick(clarify, user=2) is Counted.RECORDED
        assert await pick(clarify, chat=OTHER_CHAT) is Counted.REFUSED
        assert await pick(answered) is Counted.REFUSED  # no suggestions were offered
        assert await pick("0123456789abcdef") is Counted.REFUSED
        # The terminal's picks (no user, no chat) are one anonymous person's too.
        terminal = ask(log, status="clarify", chat_kind="terminal", user_id=None)
        log.log_pick(question_id=terminal, item_id="peer-loen", user_id=None)
        log.log_pick(question_id=terminal, item_id="peer-loen", user_id=None)
    finally:
        await log.close()
    assert rows(log_location, "SELECT COUNT(*) FROM picks WHERE question_id = ?", (clarify,)) == [
        (3,)
    ]
    assert rows(log_location, "SELECT COUNT(*) FROM picks WHERE question_id = ?", (terminal,)) == [
        (1,)
    ]


async def test_no_raw_chat_id_in_the_database(db_path: Path) -> None:
    chat_id = -1_001_234_567_890
    log = await open_log(db_path, KeepText.ALL)
    question_id = ask(log, chat_id=chat_id)
    assert await log.record_vote(question_id=question_id, user_id=5, helpful=True, chat_id=chat_id)
    await log.close()
    raw = db_path.read_bytes()
    assert log.chat_key(chat_id).encode() in raw
    assert log.chat_key(42) != log.user_key(42)  # a private chat's key is not its user's key
    for encoded in (str(chat_id).encode(), str(-chat_id).encode(), struct.pack("<q", chat_id)):
        assert encoded not in raw


VERSION_2_WITH_FORGED_PRESSES = """
INSERT INTO questions (id, asked_at, user_key, status, item_id, score, text)
VALUES ('00000000000000cc', 1790000000.0, 'k1', 'clarify', 'peer-loen', 0.4, NULL);
INSERT INTO picks VALUES ('00000000000000cc', 'peer-loen', 'k1', 1790000001.0);
INSERT INTO picks VALUES ('00000000000000cc', 'peer-loen', 'k1', 1790000002.0);
INSERT INTO picks VALUES ('00000000000000cc', 'peer-loen', 'k1', 1790000003.0);
INSERT INTO picks VALUES ('00000000000000cc', 'peer-opgaver', 'k1', 1790000004.0);
INSERT INTO picks VALUES ('ffffffffffffffff', 'peer-loen', 'k2', 1790000005.0);
INSERT INTO votes VALUES ('ffffffffffffffff', 'k2', 1, 1790000006.0, 'peer-loen');
INSERT INTO votes VALUES ('00000000000000cc', 'k1', 0, 1790000007.0, 'peer-opgaver');
"""


async def test_version_2_database_loses_its_forged_and_repeated_presses(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        for target in (1, 2):
            for statement in schema.statements(target, "sqlite"):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {target}")
        db.executescript(VERSION_2_WITH_FORGED_PRESSES)
    db.close()
    log = await open_log(db_path)
    await log.close()
    assert rows(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db_path, "SELECT question_id, item_id, picked_at FROM picks ORDER BY rowid") == [
        ("00000000000000cc", "peer-loen", 1790000001.0),
        ("00000000000000cc", "peer-opgaver", 1790000004.0),
    ]
    assert rows(db_path, "SELECT question_id FROM votes") == [("00000000000000cc",)]


# --------------------------------------------------------------------------------------------
# Deletion that deletes, private files
# --------------------------------------------------------------------------------------------

RUNNING_WRITER = """
import asyncio, sys
from pathlib import Path
from faqbot.questionlog import QuestionLog
from faqbot.settings import KeepText

async def main():
    log = await QuestionLog.open(
        Path(sys.argv[1]), secret=b"test-secret", keep_text=KeepText.ALL, retention_days=90
    )
    number = 0
    while True:
        log.log_question(question=f"nyt spørgsmål {number}", status="no_match", item_id=None,
                         score=0.1, latency_ms=1.0, chat_kind="private", user_id=number)
        await log.flush()
        number += 1
        if number == 20:
            print("writing", flush=True)
        await asyncio.sleep(0.002)

asyncio.run(main())
"""


def _files_bytes(db_path: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in db_path.parent.iterdir()
        if path.name.startswith(db_path.name)
    }


@pytest.mark.parametrize("purger", ["faqbot purge", "the daily job"])
async def test_purge_beside_a_running_writer_leaves_no_text_in_any_file(
    db_path: Path, purger: str
) -> None:
    db_path.parent.mkdir(parents=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", RUNNING_WRITER, str(db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        ready, _, _ = select.select([writer.stdout], [], [], 20)
        assert ready and writer.stdout.readline() == "writing\n"
        clock = Clock(datetime.now(UTC) - timedelta(days=120))
        log = await open_log(db_path, KeepText.ALL, clock=clock)
        try:
            for number in range(300):
                ask(log, f"GAMMEL-HEMMELIGHED-{number:04d} om min kollega", status="no_match")
            await log.flush()
            before = _files_bytes(db_path)
            assert any(b"GAMMEL-HEMMELIGHED" in data for data in before.values())
            assert db_path.name + "-wal" in before  # the writer keeps the WAL alive
            if purger == "faqbot purge":
                environment = {**os.environ, "FAQBOT_DATA_DIR": str(db_path.parent)}
                environment["FAQBOT_SECRET"] = "test-secret"
                done = subprocess.run(
                    [sys.executable, "-m", "faqbot", "purge"],
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.stdout == "Slettede 300 spørgsmålstekster ældre end 90 dage.\n"
            else:
                clock.now = datetime.now(UTC)
                assert await log.purge() == 300
            assert writer.poll() is None  # still writing beside the purge
            after = _files_bytes(db_path)
        finally:
            await log.close()
    finally:
        writer.kill()
        writer.wait(10)
        if writer.stdout is not None:
            writer.stdout.close()
    assert set(after) >= {db_path.name, db_path.name + "-wal", db_path.name + "-shm"}
    for name, data in after.items():
        assert b"GAMMEL-HEMMELIGHED" not in data, name
    assert rows(db_path, "SELECT COUNT(*) FROM questions WHERE text LIKE 'nyt%'")[0][0] > 20


async def test_the_log_overwrites_deleted_content(db_path: Path) -> None:
    log = await open_log(db_path)
    try:
        assert await log.connection.fetch("PRAGMA secure_delete") == [(1,)]
    finally:
        await log.close()


async def test_database_files_and_directory_are_private_and_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_path = data / "faqbot.sqlite3"
    log = await open_log(db_path)
    ask(log)
    await log.flush()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    await log.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert modes == {
        "faqbot.sqlite3": 0o600,
        "faqbot.sqlite3-wal": 0o600,
        "faqbot.sqlite3-shm": 0o600,
    }
    # An older install left everything readable: the next start tightens it.
    data.chmod(0o755)
    db_path.chmod(0o644)
    for suffix in ("-wal", "-shm"):
        companion = data / f"faqbot.sqlite3{suffix}"
        companion.touch()
        companion.chmod(0o666)
    log = await open_log(db_path)
    ask(log)
    await log.flush()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    await log.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert set(modes.values()) == {0o600}, modes


def test_secret_directory_is_created_private(tmp_path: Path) -> None:
    load_or_create_secret(Settings(data_dir=tmp_path / "data"))
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_a_shared_directory_is_left_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with caplog.at_level(logging.WARNING, logger="faqbot.questionlog"):
        questionlog.secure_directory(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert "readable by others" in caplog.text
