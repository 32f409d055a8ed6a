"""The question log's typed reads for the leaders' report and the weekly digest."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from faqbot.questionlog import (
    SCHEMA_VERSION,
    QuestionLog,
    first_question_at,
    latest_unresolved,
    questions_between,
    votes_between,
)
from faqbot.settings import KeepText

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEADER, OTHER_LEADER, COLLEAGUE = 900_001, 900_002, 610_001


class Clock:
    now = NOW

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()


@pytest.fixture
async def log(tmp_path: Path):
    opened = await QuestionLog.open(
        tmp_path / "faqbot.sqlite3",
        secret=b"s",
        keep_text=KeepText.ALL,
        retention_days=90,
        clock=CLOCK,
    )
    yield opened
    await opened.close()


def ask(log: QuestionLog, hours_ago: float, status: str, **fields) -> str:
    CLOCK.now = NOW - timedelta(hours=hours_ago)
    values = {
        "question": f"spørgsmål {hours_ago}",
        "item_id": "peer-opgaver" if status != "no_match" else None,
        "score": 0.5,
        "latency_ms": 1.0,
        "chat_kind": "private",
        "user_id": 7,
    }
    values.update(fields)
    return log.log_question(status=status, **values)


async def test_questions_between_with_picks_and_scope(log: QuestionLog) -> None:
    clarify = ask(log, 5, "clarify")
    log.log_pick(question_id=clarify, item_id="peer-loen", user_id=7)
    log.log_pick(question_id=clarify, item_id="peer-tavshed", user_id=7)  # the last one counts
    answered = ask(log, 4, "answered")
    assert await log.record_vote(question_id=answered, user_id=7, helpful=False)
    ask(log, 3, "no_match", off_topic=True, question="Hvornår åbner kantinen?")
    ask(log, 2, "answered", off_topic=True)  # only a no_match can be off topic
    ask(log, 1, "answered", chat_kind="terminal", user_id=None)
    ask(log, 30, "answered")  # before the window
    await log.flush()
    rows = await questions_between(log.connection, NOW - timedelta(hours=10), NOW)
    assert [(r.status, r.picked_item_id, r.off_topic) for r in rows] == [
        ("clarify", "peer-tavshed", False),
        ("answered", None, False),
        ("no_match", None, True),
        ("answered", None, False),
    ]
    assert rows[2].text == "Hvornår åbner kantinen?" and rows[0].user_key == log.user_key(7)
    assert rows[0].asked_at == NOW - timedelta(hours=5)
    with_terminal = await questions_between(
        log.connection, NOW - timedelta(hours=10), NOW, include_terminal=True
    )
    assert len(with_terminal) == 5 and with_terminal[-1].user_key is None


async def test_votes_between_counts_only_votes_on_logged_questions(log: QuestionLog) -> None:
    answered = ask(log, 3, "answered")
    terminal = ask(log, 2, "answered", chat_kind="terminal", user_id=None)
    await log.record_vote(question_id=answered, user_id=1, helpful=True)
    await log.record_vote(question_id=answered, user_id=2, helpful=False)
    await log.record_vote(question_id="ffffffffffffffff", user_id=3, helpful=True)  # no question
    await log.record_vote(question_id=terminal, user_id=None, helpful=True)
    start = NOW - timedelta(days=1)
    votes = await votes_between(log.connection, start, NOW + timedelta(hours=1))
    assert [(v.item_id, v.helpful) for v in votes] == [
        ("peer-opgaver", True),
        ("peer-opgaver", False),
    ]
    assert (
        len(await votes_between(log.connection, start, NOW + timedelta(1), include_terminal=True))
        == 3
    )


async def test_first_question_at(log: QuestionLog) -> None:
    assert await first_question_at(log.connection) is None
    ask(log, 50, "answered", chat_kind="terminal", user_id=None)
    ask(log, 10, "answered")
    await log.flush()
    assert await first_question_at(log.connection) == NOW - timedelta(hours=10)
    assert await first_question_at(log.connection, include_terminal=True) == NOW - timedelta(
        hours=50
    )


async def test_latest_unresolved_leaves_out_picked_and_terminal(log: QuestionLog) -> None:
    picked = ask(log, 5, "clarify", question="løst ved et valg")
    log.log_pick(question_id=picked, item_id="peer-loen", user_id=7)
    ask(log, 4, "clarify", question="ikke løst")
    ask(log, 3, "no_match", question="Hvornår åbner kantinen?", off_topic=True)
    ask(log, 2, "no_match", question="test", chat_kind="terminal", user_id=None)
    ask(log, 1, "answered", question="besvaret")
    await log.flush()
    rows = await latest_unresolved(log.connection, limit=10)
    assert [(r.text, r.off_topic) for r in rows] == [
        ("Hvornår åbner kantinen?", True),
        ("ikke løst", False),
    ]
    assert len(await latest_unresolved(log.connection, limit=1)) == 1


async def test_leaders_chats_are_kept_by_key_only(log: QuestionLog, tmp_path: Path) -> None:
    admins = frozenset({LEADER, OTHER_LEADER})
    assert await log.leaders_with_chat(admins) == []
    log.record_leader_chat(LEADER)
    log.record_leader_chat(LEADER)
    log.record_leader_chat(COLLEAGUE)  # not an admin (any more): never returned
    assert await log.leaders_with_chat(admins) == [LEADER]
    assert await log.leaders_with_chat(frozenset()) == []
    log.forget_leader_chat(LEADER)
    assert await log.leaders_with_chat(admins) == []
    log.record_leader_chat(OTHER_LEADER)
    await log.flush()
    with sqlite3.connect(tmp_path / "faqbot.sqlite3") as db:
        keys = db.execute("SELECT user_key FROM leader_chats").fetchall()
    assert sorted(keys) == sorted([(log.user_key(COLLEAGUE),), (log.user_key(OTHER_LEADER),)])
    for path in tmp_path.iterdir():  # no raw id in the database, its WAL or anywhere
        for user_id in (LEADER, OTHER_LEADER, COLLEAGUE):
            assert str(user_id).encode() not in path.read_bytes()


async def test_an_older_log_is_migrated_and_its_no_matches_count_as_gaps(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema as version 2 left it
        db.executescript(
            """
            CREATE TABLE questions (id TEXT PRIMARY KEY, asked_at REAL NOT NULL, user_key TEXT,
                status TEXT NOT NULL, item_id TEXT, score REAL NOT NULL, text TEXT,
                chat_kind TEXT NOT NULL DEFAULT 'unknown', latency_ms REAL);
            CREATE TABLE votes (question_id TEXT NOT NULL, user_key TEXT,
                helpful INTEGER NOT NULL, voted_at REAL NOT NULL, item_id TEXT,
                UNIQUE (question_id, user_key));
            CREATE TABLE picks (question_id TEXT NOT NULL, item_id TEXT NOT NULL,
                user_key TEXT, picked_at REAL NOT NULL);
            PRAGMA user_version = 2;
            """
        )
        db.execute(
            "INSERT INTO questions VALUES ('aa', ?, 'k', 'no_match', NULL, 0.1, 'hvad nu', "
            "'private', 1.0)",
            (NOW.timestamp() - 60,),
        )
    db.close()
    log = await QuestionLog.open(path, secret=b"s", keep_text=KeepText.ALL, retention_days=90)
    try:
        [row] = await questions_between(log.connection, NOW - timedelta(hours=1), NOW)
    finally:
        await log.close()
    assert (row.status, row.off_topic, row.text) == ("no_match", False, "hvad nu")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchall() == [(SCHEMA_VERSION,)]
