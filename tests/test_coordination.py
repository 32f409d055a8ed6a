"""What replicas agree on through the database: the poller lease (by the database's clock, one
holder at a time, a fence before its end), jobs once per period, reload versions, one secret.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from databases import rows

from faqbot.bot import replicas
from faqbot.coordination import KNOWLEDGE, POLLER, Coordination
from faqbot.questionlog import PURGE_JOB, QuestionLog, QuestionLogError
from faqbot.settings import DatabaseUrl, KeepText

SECRET = b"test-secret"


async def open_logs(location: DatabaseUrl, count: int) -> list[QuestionLog]:
    """``count`` logs on one database: as many replicas, each with its own connections."""
    return [
        await QuestionLog.open(location, secret=SECRET, keep_text=KeepText.ALL, retention_days=9)
        for _ in range(count)
    ]


async def close_all(logs: list[QuestionLog]) -> None:
    for log in logs:
        await log.close()


async def test_one_holder_at_a_time_until_the_lease_runs_out(log_location: DatabaseUrl) -> None:
    logs = await open_logs(log_location, 3)
    try:
        first, second, third = (
            Coordination(log, owner=name) for log, name in zip(logs, "abc", strict=True)
        )
        assert await first.hold(POLLER, 0.6)
        assert not await second.hold(POLLER, 0.6)  # held, not run out
        assert await first.hold(POLLER, 0.6)  # the holder renews
        assert await third.holder(POLLER) == "a"
        await asyncio.sleep(0.8)  # nobody renewed: it ran out
        assert await third.holder(POLLER) is None
        taken = await asyncio.gather(second.hold(POLLER, 30), third.hold(POLLER, 30))
        assert sorted(taken) == [False, True]  # two at once: exactly one gets it
        winner = second if taken[0] else third
        assert not await first.hold(POLLER, 30)
        assert not await first.release(POLLER)  # not its lease: nothing happens
        assert await winner.release(POLLER)  # given up at shutdown: free at once
        assert await first.hold(POLLER, 30)
    finally:
        await close_all(logs)


async def test_the_lease_ends_by_the_database_clock(log_location: DatabaseUrl) -> None:
    """The end is the database's time plus the lease, whatever the replica's clock says."""
    (log,) = await open_logs(log_location, 1)
    try:
        assert await Coordination(log, owner="a").hold(POLLER, 60)
        ((until,),) = rows(log_location, "SELECT lease_until FROM leases")
        now = datetime.now(UTC).timestamp()
        assert now + 55 < until < now + 65
    finally:
        await log.close()


async def test_the_poller_stops_before_its_lease_ends_and_another_takes_over(
    log_location: DatabaseUrl,
) -> None:
    """``PollerLease`` gives a deadline before the lease's end as the database has it; the
    standing-by replica gets the lease only after that end."""
    logs = await open_logs(log_location, 2)
    try:
        loop = asyncio.get_running_loop()
        active = replicas.PollerLease(Coordination(logs[0], owner="a"), seconds=1.0)
        standby = replicas.PollerLease(Coordination(logs[1], owner="b"), seconds=1.0)
        before = loop.time()
        deadline = await active.hold()  # counted from before it asked the database
        assert active.held and before < deadline <= loop.time() + 1.0 - replicas.FENCE_SECONDS
        assert await standby.hold() == 0.0 and not standby.held
        # the active one stops renewing (killed): the standby waits for the end, then holds
        while not await standby.hold():
            assert loop.time() < before + 5, "the lease never ran out"
            await asyncio.sleep(0.05)
        assert loop.time() >= deadline  # never while the other could still be polling
        assert standby.held
        assert await active.hold() == 0.0 and not active.held  # it learns it lost the lease
        await standby.release()
        assert await active.hold() > 0 and active.held
    finally:
        await close_all(logs)


async def test_a_job_runs_once_per_period_across_replicas(log_location: DatabaseUrl) -> None:
    logs = await open_logs(log_location, 4)
    try:
        replicas_ = [Coordination(log, owner=f"r{n}") for n, log in enumerate(logs)]
        won = await asyncio.gather(*(r.claim_job("purge", "2026-11-23") for r in replicas_))
        assert sorted(won) == [False, False, False, True]
        assert not await replicas_[0].claim_job("purge", "2026-11-23")  # later: still once
        assert await replicas_[1].claim_job("purge", "2026-11-24")  # the next day
        assert await replicas_[1].claim_job("weekly-digest", "2026-11-23")  # another job
    finally:
        await close_all(logs)


async def test_old_job_runs_are_pruned(log_location: DatabaseUrl) -> None:
    (log,) = await open_logs(log_location, 1)
    try:
        now = [datetime(2026, 11, 23, tzinfo=UTC)]
        coordination = Coordination(log, owner="a", clock=lambda: now[0])
        assert await coordination.claim_job("purge", "2026-11-23")
        now[0] += timedelta(days=61)
        assert await coordination.prune_jobs() == 1
    finally:
        await log.close()


def old_question(log: QuestionLog) -> None:
    log.log_question(
        question="gammel tekst",
        status="no_match",
        item_id=None,
        score=0.1,
        latency_ms=1.0,
        chat_kind="private",
        user_id=1,
    )


async def test_the_daily_purge_runs_in_one_replica_a_day(log_location: DatabaseUrl) -> None:
    """Every replica's JobQueue tries the purge (the job ``daily_purge``); one a day purges."""
    logs = await open_logs(log_location, 2)
    try:
        old_question(logs[0])
        await logs[0].flush()
        rows(log_location, "UPDATE questions SET asked_at = asked_at - 100 * 86400")
        purged: list[int] = []
        for log in logs:
            real = log.purge

            async def counted(now: datetime | None = None, real=real) -> int:
                purged.append(1)
                return await real(now)

            log.purge = counted  # type: ignore[method-assign]
        contexts = [
            SimpleNamespace(
                bot_data=SimpleNamespace(log=log, coordination=Coordination(log, owner=name))
            )
            for name, log in zip("ab", logs, strict=True)
        ]
        for _ in range(3):  # many tries each, on the same day, some at once
            await asyncio.gather(*(replicas.daily_purge(c) for c in contexts))  # type: ignore[arg-type]
        assert purged == [1]
        assert rows(log_location, "SELECT text FROM questions") == [(None,)]
        assert rows(log_location, "SELECT job FROM job_runs") == [(PURGE_JOB,)]
    finally:
        await close_all(logs)


async def test_a_purge_that_fails_gives_its_day_back(log_location: DatabaseUrl) -> None:
    logs = await open_logs(log_location, 2)
    try:
        old_question(logs[0])
        await logs[0].flush()
        rows(log_location, "UPDATE questions SET asked_at = asked_at - 100 * 86400")

        async def broken(now: datetime | None = None) -> int:
            raise OSError("disk I/O error")

        logs[0].purge = broken  # type: ignore[method-assign]
        first, second = (Coordination(log, owner=n) for log, n in zip(logs, "ab", strict=True))
        with pytest.raises(OSError):
            await logs[0].purge_if_due(first)
        assert rows(log_location, "SELECT COUNT(*) FROM job_runs") == [(0,)]
        assert await logs[1].purge_if_due(second) == 1  # the other replica's next try
        assert await logs[1].purge_if_due(second) is None  # done for today
    finally:
        await close_all(logs)


def test_the_bot_schedules_the_purge_in_its_job_queue() -> None:
    from faqbot import kb as kb_module
    from faqbot.bot import app
    from faqbot.settings import Settings

    kb = kb_module.load(Path(__file__).resolve().parent / "fixtures" / "kb")
    application = app.build_application(Settings(telegram_token="1:x"), kb)
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(replicas.PURGE_JOB_NAME)
    assert job.callback is replicas.daily_purge
    assert job.job.trigger.interval.total_seconds() == replicas.PURGE_CHECK_SECONDS


async def test_a_reload_bumps_the_version_every_replica_watches(log_location: DatabaseUrl) -> None:
    logs = await open_logs(log_location, 2)
    try:
        first, second = (Coordination(log, owner=n) for log, n in zip(logs, "ab", strict=True))
        assert await second.version(KNOWLEDGE) == 0
        assert await first.bump(KNOWLEDGE) == 1
        assert await first.bump(KNOWLEDGE) == 2
        assert await second.version(KNOWLEDGE) == 2
    finally:
        await close_all(logs)


async def test_every_replica_follows_a_reload_and_a_broken_copy_keeps_the_running_one(
    log_location: DatabaseUrl, tmp_path: Path
) -> None:
    """The JobQueue job ``follow_reloads``: a replica reloads when another announced a reload
    (``/genindlaes``), once per announcement; a knowledge base that does not validate on this
    replica leaves its running matcher in place."""
    from faqbot import kb as kb_module
    from faqbot.bot.context import BotData
    from faqbot.matcher import Matcher
    from faqbot.settings import Settings

    fixture = Path(__file__).resolve().parent / "fixtures" / "kb"
    broken = tmp_path / "broken"
    shutil.copytree(fixture, broken)
    for item in broken.rglob("*.yaml"):
        item.write_text("items: [\n", encoding="utf-8")
    logs = await open_logs(log_location, 2)
    try:
        contexts = []
        for name, log, directory in zip("ab", logs, (fixture, broken), strict=True):
            data = BotData()
            data.settings = Settings(knowledge_dir=directory)
            data.log = log
            data.matcher = Matcher(kb_module.load(fixture))
            data.coordination = Coordination(log, owner=name)
            contexts.append(SimpleNamespace(bot_data=data))
        first, second = (context.bot_data for context in contexts)
        before = first.matcher
        await replicas.follow_reloads(contexts[0])  # type: ignore[arg-type]
        assert first.matcher is before  # nothing announced: no reload

        await replicas.announce_reload(second)  # /genindlaes on the other replica
        assert second.knowledge_version == 1
        await replicas.follow_reloads(contexts[0])  # type: ignore[arg-type]
        assert first.matcher is not before and first.knowledge_version == 1
        reloaded = first.matcher
        await replicas.follow_reloads(contexts[0])  # type: ignore[arg-type]
        assert first.matcher is reloaded  # once per announcement

        running = second.matcher
        await replicas.announce_reload(first)
        await replicas.follow_reloads(contexts[1])  # type: ignore[arg-type]
        assert second.matcher is running and second.knowledge_version == 2
    finally:
        await close_all(logs)


async def test_a_log_written_with_another_secret_is_refused(log_location: DatabaseUrl) -> None:
    """Replicas must share the secret, or their user and chat keys would not match."""
    (log,) = await open_logs(log_location, 1)
    await log.close()
    with pytest.raises(QuestionLogError) as refused:
        await QuestionLog.open(
            log_location, secret=b"other", keep_text=KeepText.ALL, retention_days=9
        )
    assert str(refused.value) == (
        f"the question log {log_location.display} was written with another secret "
        "(FAQBOT_SECRET or the secret file in FAQBOT_DATA_DIR); give every faqbot using it the "
        "same secret, or start a new log."
    )
    assert "test-secret" not in str(rows(log_location, "SELECT value FROM meta"))
