"""The weekly digest: scheduled on Mondays in Danish time, sent to leaders who have a private
chat with the bot, one failure stopping no one. End to end against the fake Bot API server in
``tests/e2e/test_weekly_digest.py``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Message
from telegram.error import BadRequest, Forbidden, NetworkError

from faqbot import kb as kb_module
from faqbot.bot import app, digest
from faqbot.bot.context import BotData
from faqbot.coordination import Coordination
from faqbot.matcher import Matcher
from faqbot.questionlog import QuestionLog
from faqbot.report import LOCAL_TIME, last_full_week
from faqbot.settings import DatabaseUrl, KeepText, Settings

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "kb"
TOKEN = "123456:TEST"
LEADERS = (900_001, 900_002, 900_003, 900_004)


@pytest.fixture(scope="module")
def kb() -> kb_module.KnowledgeBase:
    return kb_module.load(FIXTURE_KB)


def test_the_digest_runs_every_monday_at_the_set_time_in_danish_time(kb) -> None:
    settings = Settings(telegram_token=TOKEN, digest_time=time(7, 30))
    application = app.build_application(settings, kb)
    [job] = application.job_queue.get_jobs_by_name(digest.JOB_NAME)  # beside the inbox's
    assert job.name == digest.JOB_NAME and job.callback is digest.scheduled_digest
    trigger = job.job.trigger
    assert str(trigger) == "cron[day_of_week='mon', hour='7', minute='30', second='0']"
    assert str(trigger.timezone) == "Europe/Copenhagen"
    # The next run after a Sunday evening is Monday 07:30 in Copenhagen, winter or summer.
    sunday = datetime(2026, 3, 29, 20, 0, tzinfo=LOCAL_TIME)  # the night clocks go forward
    assert trigger.get_next_fire_time(None, sunday) == datetime(
        2026, 3, 30, 7, 30, tzinfo=LOCAL_TIME
    )


def test_the_digest_can_be_switched_off(kb) -> None:
    application = app.build_application(Settings(telegram_token=TOKEN, digest_time=None), kb)
    assert application.job_queue.get_jobs_by_name(digest.JOB_NAME) == ()


def test_the_digest_covers_last_monday_to_sunday() -> None:
    wednesday = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    monday_morning = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Copenhagen
    this_monday = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 00:00 in Copenhagen
    assert last_full_week(wednesday) == last_full_week(monday_morning) == this_monday


class FakeBot:
    """Records what was sent; a chat id can be made to fail with a Bot API error."""

    def __init__(self, failures: dict[int, Exception]) -> None:
        self.failures = failures
        self.sent: list[tuple[str, int, Any]] = []

    async def send_message(self, chat_id: int, text: str) -> None:
        if chat_id in self.failures:
            raise self.failures[chat_id]
        self.sent.append(("message", chat_id, text))

    async def send_photo(self, chat_id: int, photo: Any, caption: str) -> Message:
        self.sent.append(("photo", chat_id, photo))
        return Message.de_json(
            {
                "message_id": len(self.sent),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "photo": [
                    {"file_id": "uploaded-chart", "file_unique_id": "u", "width": 9, "height": 9}
                ],
            },
            None,
        )


async def test_every_reachable_leader_gets_it_and_the_gone_are_forgotten(
    kb, tmp_path: Path
) -> None:
    log = await QuestionLog.open(
        tmp_path / "faqbot.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
    )
    try:
        for leader in LEADERS:
            log.record_leader_chat(leader)
        data = BotData()
        data.settings = Settings(admin_ids=frozenset((*LEADERS, 900_005)))  # 5: no chat yet
        data.log = log
        data.matcher = Matcher(kb)
        bot = FakeBot(
            {
                LEADERS[0]: Forbidden("Forbidden: bot was blocked by the user"),
                LEADERS[1]: NetworkError("connection reset"),
                LEADERS[2]: BadRequest("Bad Request: message is too long"),
            }
        )
        context = SimpleNamespace(bot=bot, bot_data=data)
        await digest.weekly_digest(context)  # type: ignore[arg-type]
        assert {chat for _, chat, _ in bot.sent} == {LEADERS[3]}
        kinds = [kind for kind, _, _ in bot.sent]
        assert kinds[-1] == "photo" and kinds.count("message") >= 1
        assert isinstance(bot.sent[-1][2], bytes)  # the first copy is uploaded
        # Blocked: no more digests; a network or other error: tried again next week.
        assert await log.leaders_with_chat(data.settings.admin_ids) == list(LEADERS[1:])
        first_text = next(text for kind, _, text in bot.sent if kind == "message")
        assert first_text.startswith("<b>Ugerapport: hvad kollegerne spørger om</b>")
        sunday = (last_full_week(datetime.now(UTC)) - timedelta(days=1)).astimezone(LOCAL_TIME)
        week, year = sunday.isocalendar()[1], sunday.year
        assert (
            f"\nuge {week} (" in first_text and f".{year}), sammenlignet med ugen før" in first_text
        )

        bot.failures.clear()
        bot.sent.clear()
        await digest.weekly_digest(context)  # type: ignore[arg-type]
        photos = [photo for kind, _, photo in bot.sent if kind == "photo"]
        assert len(photos) == 3 and isinstance(photos[0], bytes)
        assert photos[1:] == ["uploaded-chart", "uploaded-chart"]  # sent again by reference
    finally:
        await log.close()


async def test_leaders_who_had_a_chat_before_are_found_at_start_up(kb, tmp_path: Path) -> None:
    """After an upgrade nobody has to send /start again: the leaders' menu can be set only in
    a chat Telegram knows, and where it can, the digest can be sent too."""

    class MenuBot:
        async def set_my_commands(self, commands: object, scope: object = None) -> bool:
            if getattr(scope, "chat_id", None) == LEADERS[1]:
                raise BadRequest("Chat not found")
            return True

    log = await QuestionLog.open(
        tmp_path / "faqbot.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
    )
    try:
        data = BotData()
        data.log = log
        settings = Settings(admin_ids=frozenset(LEADERS[:2]))
        application = SimpleNamespace(bot=MenuBot(), bot_data=data)
        await app.set_commands(application, settings)  # type: ignore[arg-type]
        assert await log.leaders_with_chat(settings.admin_ids) == [LEADERS[0]]
    finally:
        await log.close()


async def test_two_replicas_send_the_scheduled_digest_once(kb, log_location: DatabaseUrl) -> None:
    """Each replica's JobQueue fires on Monday; the first to claim the week sends it. SIGUSR1
    (``weekly_digest`` itself) sends it from the replica it reaches, claimed or not."""
    logs = [
        await QuestionLog.open(log_location, secret=b"s", keep_text=KeepText.ALL, retention_days=9)
        for _ in range(2)
    ]
    try:
        logs[0].record_leader_chat(LEADERS[0])
        await logs[0].flush()
        bots, contexts = [], []
        for number, log in enumerate(logs):
            data = BotData()
            data.settings = Settings(admin_ids=frozenset(LEADERS[:1]))
            data.log = log
            data.matcher = Matcher(kb)
            data.coordination = Coordination(log, owner=f"replica-{number}")
            bots.append(FakeBot({}))
            contexts.append(SimpleNamespace(bot=bots[-1], bot_data=data))
        for context in contexts:
            await digest.scheduled_digest(context)  # type: ignore[arg-type]
        assert [len(bot.sent) > 0 for bot in bots] == [True, False]
        await digest.scheduled_digest(contexts[0])  # type: ignore[arg-type]
        sent = len(bots[0].sent)
        await digest.weekly_digest(contexts[1])  # type: ignore[arg-type]
        assert len(bots[0].sent) == sent and bots[1].sent  # sent on request only
    finally:
        for log in logs:
            await log.close()
