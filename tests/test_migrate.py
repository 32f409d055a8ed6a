"""``faqbot migrate``: the SQLite log copied into PostgreSQL, safe to run again, checked by
counts; and every way it can fail as one ``Error:`` sentence."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from databases import rows
from pgserver import free_port

from faqbot.cli import main
from faqbot.inbox import Inbox
from faqbot.questionlog import QuestionLog
from faqbot.settings import DatabaseUrl, KeepText

SECRET = "migrate-secret"
TABLES = ("questions", "votes", "picks", "leader_chats", "inbox")


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("FAQBOT_") or name == "TELEGRAM_BOT_TOKEN":
            monkeypatch.delenv(name)
    data = tmp_path / "data"
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(data))
    monkeypatch.setenv("FAQBOT_SECRET", SECRET)
    return data


def fill(path: Path) -> None:
    """A SQLite log with a bit of everything, and one update still waiting in the inbox."""

    async def run() -> None:
        log = await QuestionLog.open(
            path, secret=SECRET.encode(), keep_text=KeepText.ALL, retention_days=90
        )
        try:
            asked = []
            for number in range(30):
                asked.append(
                    log.log_question(
                        question=f"spørgsmål {number}",
                        status="clarify" if number % 3 == 0 else "answered",
                        item_id="peer-opgaver",
                        score=0.5 + number / 100,
                        latency_ms=1.5,
                        chat_kind="private",
                        user_id=number,
                        chat_id=number,
                    )
                )
            for number, question_id in enumerate(asked):
                if number % 3 == 0:
                    log.log_pick(
                        question_id=question_id, item_id="peer-loen", user_id=number, chat_id=number
                    )
                assert await log.record_vote(
                    question_id=question_id, user_id=number, helpful=number % 2 == 0, chat_id=number
                )
            log.record_leader_chat(900_001)
            inbox = Inbox(log, owner="old-bot")
            await inbox.accept([(5001, json.dumps({"update_id": 5001})), (5002, "{}")])
            inbox.complete(5001)
        finally:
            await log.close()

    asyncio.run(run())


def contents(location: Path | DatabaseUrl, table: str) -> list[tuple]:
    columns = {
        "questions": "id, asked_at, user_key, chat_key, chat_kind, status, item_id, score, "
        "latency_ms, off_topic, text",
        "votes": "question_id, user_key, helpful, voted_at, item_id",
        "picks": "question_id, item_id, user_key, picked_at",
        "leader_chats": "user_key, started_at",
        "inbox": "update_id, received_at, payload, claimed_by, attempts, done_at",
    }[table]
    return sorted(rows(location, f"SELECT {columns} FROM {table}"), key=repr)


def test_migrate_copies_everything_once_and_checks_it(
    environment: Path,
    postgres_url: DatabaseUrl,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = environment / "faqbot.sqlite3"
    fill(source)
    monkeypatch.setenv("FAQBOT_DATABASE_URL", postgres_url.url)
    assert main(["migrate"]) == 0
    first = capsys.readouterr()
    assert first.err == ""
    assert first.out.splitlines() == [
        "questions: 30 i SQLite, 30 i PostgreSQL (30 kopieret nu).",
        "votes: 30 i SQLite, 30 i PostgreSQL (30 kopieret nu).",
        "picks: 10 i SQLite, 10 i PostgreSQL (10 kopieret nu).",
        "leader_chats: 1 i SQLite, 1 i PostgreSQL (1 kopieret nu).",
        "inbox: 2 i SQLite, 2 i PostgreSQL (2 kopieret nu).",
        "Alle rækker fra SQLite findes i PostgreSQL.",
    ]
    for table in TABLES[:4]:
        assert contents(postgres_url, table) == contents(source, table), table
    # The waiting update is there for the first replica to take; its old claim is gone.
    assert rows(postgres_url, "SELECT update_id, claimed_by, payload FROM inbox ORDER BY 1") == [
        (5001, None, None),
        (5002, None, "{}"),
    ]

    assert main(["migrate", "--from", str(source)]) == 0  # again: nothing twice
    again = capsys.readouterr().out.splitlines()
    assert again[0] == "questions: 30 i SQLite, 30 i PostgreSQL (0 kopieret nu)."
    assert all("(0 kopieret nu)" in line for line in again[:5])
    for table in TABLES[:4]:
        assert contents(postgres_url, table) == contents(source, table), table


def test_migrate_needs_a_postgresql_url(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 1
    assert capsys.readouterr().err == (
        "Error: faqbot migrate copies into PostgreSQL; set FAQBOT_DATABASE_URL to a "
        "postgresql:// URL.\n"
    )


def test_migrate_without_a_sqlite_log(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATABASE_URL", "postgresql://faqbot@127.0.0.1/faqbot")
    assert main(["migrate"]) == 1
    assert capsys.readouterr().err == (
        f"Error: there is no SQLite question log at {environment / 'faqbot.sqlite3'} to copy.\n"
    )


def test_migrate_to_a_server_that_is_not_there_never_shows_the_password(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(environment / "faqbot.sqlite3")
    port = free_port()
    url = f"postgresql://faqbot:hemmeligt-pw@127.0.0.1:{port}/faqbot"
    monkeypatch.setenv("FAQBOT_DATABASE_URL", url)
    assert main(["migrate"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(
        f"Error: cannot use the PostgreSQL database postgresql://faqbot:***@127.0.0.1:{port}/"
        f'faqbot (connection to server at "127.0.0.1", port {port} failed: Connection refused'
    )
    assert error.endswith(
        "); check FAQBOT_DATABASE_URL and that the server is running and lets this user in.\n"
    )
    assert "hemmeligt-pw" not in error and error.count("\n") == 1


def test_migrate_refuses_another_secret(
    environment: Path,
    postgres_url: DatabaseUrl,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill(environment / "faqbot.sqlite3")
    monkeypatch.setenv("FAQBOT_DATABASE_URL", postgres_url.url)
    monkeypatch.setenv("FAQBOT_SECRET", "another")
    assert main(["migrate"]) == 1
    assert capsys.readouterr().err == (
        f"Error: the question log {environment / 'faqbot.sqlite3'} was written with another "
        "secret (FAQBOT_SECRET or the secret file in FAQBOT_DATA_DIR); give every faqbot using "
        "it the same secret, or start a new log.\n"
    )
    assert rows(postgres_url, "SELECT COUNT(*) FROM questions") == [(0,)]
