"""The update inbox's storage: stored before confirmed, done together with the log rows,
claims and leases, replay, pruning, and the payload kept only until the update is handled."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from databases import rows

from faqbot import questionlog
from faqbot.inbox import ACCEPT_LIMIT, DEDUP_WINDOW, LEASE, Inbox
from faqbot.questionlog import Guard, QuestionLog, QuestionLogError, open_failure, open_log
from faqbot.settings import DatabaseUrl, KeepText, Settings
from faqbot.storage import schema

SECRET = b"test-secret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def payload(update_id: int, text: str = "Hvad laver en peer?") -> str:
    return json.dumps({"update_id": update_id, "message": {"text": text, "chat": {"id": 7}}})


@pytest.fixture
async def log(log_location: DatabaseUrl):
    """A question log on SQLite or on PostgreSQL (every test here runs on both)."""
    opened = await QuestionLog.open(
        log_location, secret=SECRET, keep_text=KeepText.ALL, retention_days=90
    )
    try:
        yield opened
    finally:
        await opened.close()


def ask(log: QuestionLog, question: str = "Hvad laver en peer?", status: str = "answered") -> str:
    return log.log_question(
        question=question,
        status=status,
        item_id="peer-opgaver",
        score=0.9,
        latency_ms=1.0,
        chat_kind="private",
        user_id=42,
        chat_id=42,
    )


async def test_accept_stores_durably_and_recognises_repeats(log: QuestionLog) -> None:
    inbox = Inbox(log, owner="a", clock=Clock())
    assert await inbox.accept([(1, payload(1)), (2, payload(2))]) == {1, 2}
    # stored and committed before accept returns: another connection sees it at once
    assert rows(log.location, "SELECT update_id, payload IS NOT NULL, claimed_by FROM inbox") == [
        (1, 1, "a"),
        (2, 1, "a"),
    ]
    assert await inbox.accept([(2, payload(2)), (3, payload(3))]) == {3}
    inbox.complete(1)
    await log.flush()
    assert await inbox.accept([(1, payload(1))]) == set()  # done, but still recognised
    assert await inbox.counts() == (2, 1)


async def test_accept_takes_at_most_one_get_updates_batch(log: QuestionLog) -> None:
    inbox = Inbox(log, owner="a")
    batch = [(n, payload(n)) for n in range(ACCEPT_LIMIT)]
    assert len(await inbox.accept(batch)) == ACCEPT_LIMIT
    with pytest.raises(ValueError, match="at most"):
        await inbox.accept([(n, payload(n)) for n in range(1000, 1000 + ACCEPT_LIMIT + 1)])


async def test_held_rows_commit_only_with_the_done_mark(log: QuestionLog) -> None:
    inbox = Inbox(log, owner="a", clock=Clock())
    await inbox.accept([(10, payload(10))])
    with log.holding() as held:
        question_id = ask(log, status="clarify")
        log.log_pick(question_id=question_id, item_id="peer-opgaver", user_id=42, chat_id=42)
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(0,)]  # held, not queued
    assert len(held) == 2
    inbox.complete(10, held)
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(1,)]
    assert rows(log.location, "SELECT COUNT(*) FROM picks") == [(1,)]
    assert rows(log.location, "SELECT payload, claimed_by, done_at IS NOT NULL FROM inbox") == [
        (None, None, 1)
    ]


async def test_groups_committed_together_keep_the_order_their_rows_need(
    log: QuestionLog,
) -> None:
    """One writer batch holds many updates' groups; a pick needs its question's row first,
    even when the question came in the update before (the inbox marks may run last)."""
    inbox = Inbox(log, owner="a", clock=Clock())
    await inbox.accept([(n, payload(n)) for n in (1, 2, 3)])
    with log.holding() as first:
        asked = ask(log, status="clarify")
    with log.holding() as second:
        log.log_pick(question_id=asked, item_id="peer-opgaver", user_id=42, chat_id=42)
    with log.holding() as third:
        ask(log)
    for update_id, held in ((1, first), (2, second), (3, third)):
        inbox.complete(update_id, held)  # queued back to back: one transaction
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(2,)]
    assert rows(log.location, "SELECT question_id FROM picks") == [(asked,)]
    assert await inbox.counts() == (0, 3)


async def test_rows_held_for_an_update_that_is_handed_back_are_never_written(
    log: QuestionLog,
) -> None:
    inbox = Inbox(log, owner="a", clock=Clock())
    await inbox.accept([(10, payload(10))])
    with log.holding():
        ask(log)
    await inbox.release([10], retry_in=0)
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(0,)]
    assert [entry.update_id for entry in await inbox.claim()] == [10]


async def test_awaited_writes_are_not_held(log: QuestionLog) -> None:
    question_id = ask(log)  # an earlier update's question, already written
    with log.holding() as held:
        assert await log.record_vote(question_id=question_id, user_id=1, helpful=True, chat_id=42)
    assert len(held) == 0
    assert rows(log.location, "SELECT COUNT(*) FROM votes") == [(1,)]


async def test_a_transaction_is_all_or_nothing(log: QuestionLog) -> None:
    inbox = Inbox(log, owner="a", clock=Clock())
    await inbox.accept([(10, payload(10))])
    with log.holding() as held:
        ask(log)
    # the second statement breaks a constraint: the held question row must not stay either
    bad_guard = Guard(
        "INSERT INTO inbox (update_id, received_at) VALUES {rows} RETURNING update_id", (10, 0)
    )
    log.write_together(held, bad_guard)
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(0,)]
    assert await inbox.counts() == (1, 0)


async def test_claims_take_only_unleased_rows_and_leases_expire(log: QuestionLog) -> None:
    clock = Clock()
    first = Inbox(log, owner="first", clock=clock)
    second = Inbox(log, owner="second", clock=clock)
    await first.accept([(1, payload(1)), (2, payload(2))])
    assert await second.claim() == []  # the first holds live leases
    clock.advance(seconds=LEASE.total_seconds() / 2)
    await first.renew([1])
    clock.advance(seconds=LEASE.total_seconds() / 2 + 1)
    taken = await second.claim()
    assert [(entry.update_id, entry.attempts) for entry in taken] == [(2, 2)]
    assert json.loads(taken[0].payload)["update_id"] == 2
    assert taken[0].received_at == NOW
    assert await first.claim() == []
    clock.advance(seconds=LEASE.total_seconds() + 1)  # nobody renews: both claimable again
    assert [entry.update_id for entry in await first.claim(limit=1)] == [1]


async def test_release_hands_back_with_a_delay_and_release_mine_frees_what_it_held(
    log: QuestionLog,
) -> None:
    clock = Clock()
    inbox = Inbox(log, owner="a", clock=clock)
    await inbox.accept([(1, payload(1)), (2, payload(2)), (3, payload(3))])
    await inbox.release([1], retry_in=10)  # (10 s: less than the lease 3 keeps)
    await inbox.release([2])
    assert [(entry.update_id, entry.attempts) for entry in await inbox.claim()] == [(2, 1)]
    clock.advance(seconds=11)
    assert [entry.update_id for entry in await inbox.claim()] == [1]
    await Inbox(log, owner="other", clock=clock).release([3])  # not its claim: nothing happens
    assert await inbox.release_mine() == 3  # 3 since accept, 1 and 2 since their claims
    assert [entry.update_id for entry in await Inbox(log, owner="b", clock=clock).claim()] == [
        1,
        2,
        3,
    ]


async def test_prune_deletes_done_rows_after_the_dedup_window(log: QuestionLog) -> None:
    clock = Clock()
    inbox = Inbox(log, owner="a", clock=clock)
    await inbox.accept([(1, payload(1)), (2, payload(2))])
    inbox.complete(1)
    await log.flush()
    assert await inbox.prune(NOW + DEDUP_WINDOW - timedelta(seconds=1)) == 0
    assert await inbox.prune(NOW + DEDUP_WINDOW + timedelta(seconds=1)) == 1
    assert await inbox.counts() == (1, 0)  # a pending row is never pruned


async def test_no_personal_data_stays_once_an_update_is_done(log: QuestionLog) -> None:
    inbox = Inbox(log, owner="a", clock=Clock())
    secret_text = "Mit CPR er 010203-1234"
    await inbox.accept([(5, payload(5, secret_text))])
    inbox.complete(5)
    await log.flush()
    assert rows(log.location, "SELECT * FROM inbox") == [
        (5, NOW.timestamp(), None, None, None, 1, NOW.timestamp())
    ]


async def test_an_erased_update_is_gone_from_the_database_files_too(log: QuestionLog) -> None:
    """The inbox writes through the question log's own connection: on SQLite ``secure_delete``
    overwrites the erased text and the purge's checkpoint empties the WAL; on PostgreSQL the
    purge vacuums the inbox, so the erased row version is no longer reachable."""
    inbox = Inbox(log, owner="a", clock=Clock())
    secret_text = "Ring til Mette Hansen paa 23456789 om Jens"
    await inbox.accept([(9, payload(9, secret_text))])
    inbox.complete(9)
    await log.flush()
    await log.purge()
    location = log.location
    if location.path is not None:
        assert await log.connection.fetch("PRAGMA secure_delete") == [(1,)]
        files = [p for p in location.path.parent.iterdir() if p.name.startswith("faqbot")]
        assert files and all(b"Mette Hansen" not in p.read_bytes() for p in files)
    else:
        assert rows(
            location, "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'inbox'"
        ) == [(1,)]


async def test_a_new_log_has_the_inbox_and_an_old_one_gets_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        for version in (1, 2):
            for statement in schema.statements(version, "sqlite"):
                db.execute(statement)
        db.execute("PRAGMA user_version = 2")
    log = await QuestionLog.open(path, secret=SECRET, keep_text=KeepText.ALL, retention_days=9)
    try:
        assert await Inbox(log, owner="a").accept([(1, payload(1))]) == {1}
    finally:
        await log.close()
    assert rows(path, "PRAGMA user_version") == [(questionlog.SCHEMA_VERSION,)]


async def test_a_done_mark_from_a_process_that_lost_its_claim_writes_nothing(
    log: QuestionLog,
) -> None:
    """Two replicas, overlapping: the first's lease ran out while it was still handling the
    update, the second took it over. Both may have replied; only one logs it."""
    clock = Clock()
    first = Inbox(log, owner="first", clock=clock)
    second = Inbox(log, owner="second", clock=clock)
    await first.accept([(7, payload(7))])
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert [entry.update_id for entry in await second.claim()] == [7]
    with log.holding() as late:
        ask(log, "sent by the first replica too late")
    with log.holding() as taken_over:
        ask(log, "sent by the second replica")
    second.complete(7, taken_over)
    first.complete(7, late)  # claimed_by is no longer "first": its rows are dropped
    await log.flush()
    assert rows(log.location, "SELECT text FROM questions") == [("sent by the second replica",)]
    assert await first.claim() == [] and await inbox_counts(log) == (0, 1)
    second.complete(7)  # done already: a repeat writes nothing either
    await log.flush()
    assert rows(log.location, "SELECT COUNT(*) FROM questions") == [(1,)]


async def inbox_counts(log: QuestionLog) -> tuple[int, int]:
    return await Inbox(log, owner="counter").counts()


async def test_processes_claiming_at_once_never_take_the_same_update(
    log: QuestionLog,
) -> None:
    """Four replicas (each its own connection) claim from 200 pending updates at the same time:
    every update goes to exactly one (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer
    at a time)."""
    clock = Clock()
    producer = Inbox(log, owner="poller", lease=timedelta(0), clock=clock)
    for start in (0, 100):
        await producer.accept([(n, payload(n)) for n in range(start, start + 100)])
    clock.advance(seconds=1)
    others = [
        await QuestionLog.open(
            log.location, secret=SECRET, keep_text=KeepText.ALL, retention_days=9
        )
        for _ in range(4)
    ]
    try:
        inboxes = [Inbox(other, owner=f"r{n}", clock=clock) for n, other in enumerate(others)]
        for _ in range(3):
            taken = await asyncio.gather(*(inbox.claim(limit=25) for inbox in inboxes))
            ids = [entry.update_id for batch in taken for entry in batch]
            assert len(ids) == len(set(ids)) == 100
            for inbox, batch in zip(inboxes, taken, strict=True):
                await inbox.release([entry.update_id for entry in batch])
    finally:
        for other in others:
            await other.close()


# --- opening the log: every failure is one sentence ----------------------------------------------


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret="s")


async def test_a_directory_where_the_log_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "faqbot.sqlite3").mkdir()
    with pytest.raises(QuestionLogError) as failure:
        await open_log(settings_for(tmp_path))
    assert str(failure.value) == (
        f"{tmp_path / 'faqbot.sqlite3'} is a directory, but faqbot keeps its question log in a "
        "file of that name; move the directory away or set FAQBOT_DATA_DIR to another directory."
    )


async def test_a_damaged_log_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "faqbot.sqlite3"
    path.write_bytes(b"this is no database " * 300)
    with pytest.raises(QuestionLogError) as failure:
        await open_log(settings_for(tmp_path))
    assert str(failure.value) == (
        f"the question log {path} is damaged (file is not a database); restore it from a "
        "backup, or move it aside so faqbot starts a new, empty log."
    )


async def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.write_text("x")
    with pytest.raises(QuestionLogError, match="is a file, not a directory"):
        await open_log(settings_for(data_dir))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(28, "No space left on device"),
            "the data directory {dir} is full (No space left on device); free space on its "
            "disk and start faqbot again.",
        ),
        (
            sqlite3.OperationalError("database or disk is full"),
            "the data directory {dir} is full (database or disk is full); free space on its "
            "disk and start faqbot again.",
        ),
        (
            OSError(30, "Read-only file system"),
            "the data directory {dir} is not writable (Read-only file system); make it writable "
            "for the user faqbot runs as, or set FAQBOT_DATA_DIR to a writable directory.",
        ),
        (
            sqlite3.OperationalError("attempt to write a readonly database"),
            "the data directory {dir} is not writable (attempt to write a readonly database); "
            "make it writable for the user faqbot runs as, or set FAQBOT_DATA_DIR to a writable "
            "directory.",
        ),
        (
            sqlite3.DatabaseError("database disk image is malformed"),
            "the question log {path} is damaged (database disk image is malformed); restore it "
            "from a backup, or move it aside so faqbot starts a new, empty log.",
        ),
    ],
)
def test_open_failures_say_what_is_wrong_and_what_to_do(
    tmp_path: Path, error: BaseException, expected: str
) -> None:
    path = tmp_path / "faqbot.sqlite3"
    assert str(open_failure(path, error)) == expected.format(dir=tmp_path, path=path)
