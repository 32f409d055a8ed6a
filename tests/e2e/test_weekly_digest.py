"""The weekly digest end to end: the real ``faqbot run`` process, the fake Bot API server, a
question log with last week's questions in it, and the job triggered by the test with SIGUSR1
(the operator's "send it now"; the Monday schedule itself is checked in ``tests/test_digest.py``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botprocess import ADMIN_ID, KNOWLEDGE, BotProcess
from fake_telegram import FakeTelegram, parse_html

from faqbot import kb as kb_module
from faqbot.questionlog import QuestionLog
from faqbot.report import LOCAL_TIME, last_full_week
from faqbot.settings import KeepText

pytestmark = pytest.mark.e2e

TIMEOUT = 20.0
SECOND_LEADER = 900_002  # in FAQBOT_ADMIN_IDS, but never started a chat with the bot
COLLEAGUE = 610_999


def seed_last_week(database: Path) -> str:
    """Last week's questions, written as the bot would have; returns an answered item's question."""
    item = kb_module.load(KNOWLEDGE).items[0]
    tuesday = last_full_week(datetime.now(UTC)) - timedelta(days=6) + timedelta(hours=10)

    async def seed() -> None:
        clock = [tuesday]
        log = await QuestionLog.open(
            database,
            secret=b"test",  # FAQBOT_SECRET in the bot's environment
            keep_text=KeepText.UNANSWERED,
            retention_days=90,
            clock=lambda: clock[0],
        )
        for n, (status, item_id, text, off_topic) in enumerate(
            [
                ("answered", item.id, item.question, False),
                ("answered", item.id, item.question, False),
                ("answered", item.id, item.question, False),
                ("no_match", None, "Kan en peer have nattevagt?", False),
                ("no_match", None, "Må peers tage nattevagter?", False),
                ("no_match", None, "Hvornår åbner kantinen?", True),
                ("safety", None, "jeg kan ikke mere", False),
            ]
        ):
            clock[0] = tuesday + timedelta(hours=n)
            log.log_question(
                question=text,
                status=status,
                item_id=item_id,
                score=0.5,
                latency_ms=1.0,
                chat_kind="private",
                user_id=700_000 + n,
                off_topic=off_topic,
            )
        await log.close()

    asyncio.run(seed())
    return item.question


def start_chat(fake: FakeTelegram, user_id: int, name: str) -> None:
    mark = fake.mark()
    fake.send_command("/start", user=FakeTelegram.user(user_id, name))
    fake.wait_for(lambda c: c.ok and c.chat_id == user_id, TIMEOUT, after=mark)


def test_leaders_with_a_chat_get_last_weeks_report_and_chart(fake, tmp_path: Path) -> None:
    bot = BotProcess(fake, tmp_path, FAQBOT_ADMIN_IDS=f"{ADMIN_ID},{SECOND_LEADER}")
    question = seed_last_week(bot.database)
    bot.start()
    try:
        start_chat(fake, ADMIN_ID, "Leder")
        start_chat(fake, COLLEAGUE, "Kollega")
        mark = fake.mark()
        assert bot.process is not None
        bot.process.send_signal(signal.SIGUSR1)
        photo = fake.wait_for(
            lambda c: c.method == "sendPhoto" and c.chat_id == ADMIN_ID, TIMEOUT, after=mark
        )
        assert photo.ok and photo.files["photo"].data.startswith(b"\x89PNG\r\n\x1a\n")
        sunday = (last_full_week(datetime.now(UTC)) - timedelta(days=1)).astimezone(LOCAL_TIME)
        assert parse_html(photo.params["caption"]).startswith("Mest spurgte og dag for dag, uge ")
        messages = [c for c in fake.calls_to("sendMessage", after=mark) if c.chat_id == ADMIN_ID]
        assert messages and all(c.ok for c in messages)
        assert all(c.index < photo.index for c in messages)  # the text first, then the chart
        visible = "\n".join(parse_html(c.text) for c in messages)
        lines = visible.splitlines()
        assert lines[0] == "Ugerapport: hvad kollegerne spørger om"
        assert lines[1].startswith(f"uge {sunday.isocalendar()[1]} (")
        assert lines[1].endswith(f".{sunday.year}), sammenlignet med ugen før.")
        for expected in (
            "• Spørgsmål: 7 (før 0, ny)",
            "• Kolleger, der har spurgt: 7 (før 0, ny)",
            "• Besvaret direkte: 50 % af 6 spørgsmål (før –, –)",
            f"1. {question[:60]}",
            "Videnshuller: 2, samlet i 1 gruppe (før 0, ny)",
            "• 2 × Kan en peer have nattevagt?",
            "Uden for emnet: 1 (før 0, ny)",
            "Krisebeskeder: 1 (før 0, ny)",
        ):
            assert any(line.startswith(expected) for line in lines), (expected, visible)
        assert "kan ikke mere" not in visible
        time.sleep(0.5)  # the digest goes to nobody else
        others = [c for c in fake.calls[mark:] if c.chat_id in (SECOND_LEADER, COLLEAGUE)]
        assert others == []
        deadline = time.monotonic() + TIMEOUT
        while "weekly digest sent to 1 of 1 leader(s)" not in bot.output():
            assert time.monotonic() < deadline, bot.output()[-3000:]
            time.sleep(0.05)
    finally:
        code = bot.terminate()
    assert code == 0, bot.output()[-3000:]
    assert str(ADMIN_ID) not in bot.database.read_bytes().decode("latin-1")


def test_switched_off_it_sends_nothing_and_the_signal_does_no_harm(fake, tmp_path: Path) -> None:
    bot = BotProcess(fake, tmp_path, FAQBOT_DIGEST_TIME="off")
    seed_last_week(bot.database)
    bot.start()
    try:
        start_chat(fake, ADMIN_ID, "Leder")
        mark = fake.mark()
        assert bot.process is not None
        bot.process.send_signal(signal.SIGUSR1)
        fake.assert_no_call(lambda c: c.chat_id == ADMIN_ID, 1.0, after=mark)
        assert bot.alive()
        assert "the weekly digest is off (FAQBOT_DIGEST_TIME=off); nothing sent" in bot.output()
    finally:
        code = bot.terminate()
    assert code == 0, bot.output()[-3000:]
