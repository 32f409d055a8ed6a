"""The delivery's decisions, one update at a time, on a real question log: done with its rows,
handed back, left for the next start, late, and what the error handler does after the
transport's retries. The running bot is tested end to end in tests/e2e/test_faults.py."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from faqbot.bot import delivery as delivery_module
from faqbot.bot import texts, transport
from faqbot.bot.delivery import Delivery, hand_back, is_transient
from faqbot.bot.handlers import on_error
from faqbot.inbox import Inbox
from faqbot.matcher import Status
from faqbot.questionlog import QuestionLog
from faqbot.settings import KeepText

SECRET = b"test-secret"
USER = {"id": 4242, "is_bot": False, "first_name": "Test"}


class FakeBot:
    """Records what the bot would send; fails the next calls as told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[Exception] = []
        self.username = "faqbot_test_bot"
        self.id = 1
        self.defaults = None

    async def _call(self, method: str, **params: Any) -> bool:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((method, params))
        return True

    async def send_message(self, **params: Any) -> bool:
        return await self._call("sendMessage", **params)

    async def answer_callback_query(self, **params: Any) -> bool:
        return await self._call("answerCallbackQuery", **params)


class Clock:
    """The inbox's clock: now, unless a test moves it on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class FakeMatcher:
    def match(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(status=Status.SAFETY if "selvmord" in text else Status.ANSWERED)


def make_update(
    update_id: int, text: str = "Hvad laver en peer?", *, group: bool = False, age: float = 0
) -> Update:
    chat = {"id": -77, "type": "group", "title": "G"} if group else {**USER, "type": "private"}
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time() - age),
                "chat": chat,
                "from": USER,
                "text": text,
            },
        },
        None,  # type: ignore[arg-type]
    )


def callback_update(update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "callback_query": {
                "id": "cq1",
                "from": USER,
                "chat_instance": "x",
                "data": "t",
            },
        },
        None,  # type: ignore[arg-type]
    )


class Harness:
    """A delivery attached to a real question log, with a fake bot and application."""

    def __init__(self, log: QuestionLog) -> None:
        self.log = log
        self.bot = FakeBot()
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.application = SimpleNamespace(
            bot=self.bot,
            update_queue=self.queue,
            bot_data=SimpleNamespace(matcher=FakeMatcher()),
        )
        self.delivery = Delivery(max_age=timedelta(minutes=10), owner="test")
        self.delivery.attach(self.application, log)  # type: ignore[arg-type]
        self.clock = Clock()
        self.delivery._inbox = Inbox(log, owner="test", clock=self.clock)

    def bind(self, update: Update) -> Update:
        update.set_bot(self.bot)  # type: ignore[arg-type]
        for part in (update.message, update.callback_query):
            if part is not None:
                part.set_bot(self.bot)  # type: ignore[arg-type]
        return update

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.log.path) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    log = await QuestionLog.open(
        tmp_path / "log.sqlite3", secret=SECRET, keep_text=KeepText.ALL, retention_days=90
    )
    try:
        yield Harness(log)
    finally:
        await log.close()


def ask(log: QuestionLog) -> None:
    log.log_question(
        question="Hvad laver en peer?",
        status="answered",
        item_id="peer-opgaver",
        score=0.9,
        latency_ms=1.0,
        chat_kind="private",
        user_id=USER["id"],
    )


async def test_an_update_is_stored_before_it_is_handled_and_done_with_its_row(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(1))
    assert await harness.delivery.accept([update]) == [update]
    assert await harness.delivery.accept([update]) == []  # a repeat is not handled twice
    assert harness.rows("SELECT update_id, payload IS NOT NULL FROM inbox") == [(1, 1)]

    async def handle() -> None:
        ask(harness.log)
        await asyncio.sleep(0)
        assert harness.rows("SELECT COUNT(*) FROM questions") == [(0,)]

    await harness.delivery.process(update, handle())
    await harness.log.flush()
    assert harness.rows("SELECT COUNT(*) FROM questions") == [(1,)]
    assert harness.rows("SELECT payload, done_at IS NOT NULL FROM inbox") == [(None, 1)]
    assert harness.delivery.held == set()


async def test_a_handed_back_update_keeps_no_row_and_is_taken_again_later(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(2))
    await harness.delivery.accept([update])

    async def handle() -> None:
        ask(harness.log)
        assert hand_back()

    await harness.delivery.process(update, handle())
    await harness.log.flush()
    assert harness.rows("SELECT COUNT(*) FROM questions") == [(0,)]
    assert await harness.delivery.redeliver() == 0  # not before the retry delay
    harness.clock.now += timedelta(seconds=delivery_module.RETRY_DELAY_SECONDS + 1)
    assert await harness.delivery.redeliver() == 1
    replayed = harness.queue.get_nowait()
    assert isinstance(replayed, Update) and replayed.update_id == 2
    assert replayed.message is not None and replayed.message.text == "Hvad laver en peer?"


async def test_outside_a_delivered_update_nothing_can_be_handed_back() -> None:
    assert hand_back() is False


async def test_updates_still_waiting_at_shutdown_stay_in_the_inbox(harness: Harness) -> None:
    update = harness.bind(make_update(3))
    await harness.delivery.accept([update])
    assert await harness.delivery.stop(grace=0.1) == 1
    ran = []

    async def handle() -> None:
        ran.append(True)

    await harness.delivery.process(update, handle())
    assert ran == []
    assert await harness.delivery.inbox.release_mine() == 1
    assert await harness.delivery.inbox.counts() == (1, 0)


async def test_an_update_in_progress_past_the_grace_time_is_cancelled_and_kept(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(4))
    await harness.delivery.accept([update])

    async def slow() -> None:
        ask(harness.log)
        await asyncio.sleep(30)

    task = asyncio.create_task(harness.delivery.process(update, slow()))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    assert await harness.delivery.stop(grace=0.2) == 1
    assert time.monotonic() - started < 2
    assert task.cancelled()
    await harness.log.flush()
    assert harness.rows("SELECT COUNT(*) FROM questions") == [(0,)]
    assert harness.rows("SELECT done_at FROM inbox") == [(None,)]


async def test_a_late_private_question_gets_an_apology_instead_of_an_answer(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(5, age=11 * 60))
    assert await harness.delivery.accept([update]) == [update]
    assert 5 in harness.delivery.late
    ran = []

    async def handle() -> None:
        ran.append(True)

    await harness.delivery.process(update, handle())
    assert ran == []
    assert [(method, params["text"]) for method, params in harness.bot.sent] == [
        ("sendMessage", texts.LATE_APOLOGY)
    ]
    assert harness.bot.sent[0][1]["reply_parameters"].message_id == 5
    await harness.log.flush()
    assert await harness.delivery.inbox.counts() == (0, 1)


async def test_a_late_crisis_message_still_gets_the_safety_answer(harness: Harness) -> None:
    update = harness.bind(make_update(6, "jeg tænker på selvmord", age=3600))
    await harness.delivery.accept([update])
    ran = []

    async def handle() -> None:
        ran.append(True)

    await harness.delivery.process(update, handle())
    assert ran == [True] and harness.bot.sent == []


async def test_a_late_group_message_or_button_press_is_dropped(harness: Harness) -> None:
    group = harness.bind(make_update(7, group=True, age=3600))
    await harness.delivery.accept([group])

    async def handle() -> None:
        raise AssertionError("a late group message is not answered")

    await harness.delivery.process(group, handle())
    assert harness.bot.sent == []
    await harness.log.flush()
    assert await harness.delivery.inbox.counts() == (0, 1)


async def test_a_young_update_replayed_from_the_inbox_is_answered_normally(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(8))
    await harness.delivery.accept([update])
    assert await harness.delivery.inbox.release_mine() == 1
    harness.delivery.held.clear()  # as after a restart: the new process holds nothing yet
    assert await harness.delivery.recover() == 1
    assert 8 not in harness.delivery.late


# --- the error handler after the transport's retries ---------------------------------------------


def context(error: BaseException) -> Any:
    return SimpleNamespace(error=error)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NetworkError("Bad Gateway"), True),
        (TimedOut(), True),
        (BadRequest("message is too long"), False),
        (Forbidden("bot was blocked by the user"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_flood_control_that_outlasted_its_retries_is_transient() -> None:
    with warnings.catch_warnings():  # python-telegram-bot's own deprecation notice on retry_after
        warnings.simplefilter("ignore")
        assert is_transient(RetryAfter(5))


async def run_error_handler(
    harness: Harness, update: Update, error: BaseException, *, maybe_delivered: bool = False
) -> bool:
    """on_error inside a delivered update; return whether the update was handed back."""
    await harness.delivery.accept([update])
    handed_back: list[bool] = []

    async def handle() -> None:
        record = transport.current_record()
        assert record is not None
        record.maybe_delivered = maybe_delivered
        await on_error(update, context(error))
        handed_back.append(delivery_module._UNIT.get().hand_back)  # type: ignore[union-attr]

    await harness.delivery.process(update, handle())
    return handed_back[0]


async def test_a_reply_that_may_have_gone_out_is_sent_again_later_not_apologised_for(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(10))
    assert await run_error_handler(harness, update, TimedOut(), maybe_delivered=True)
    assert harness.bot.sent == []


async def test_a_reply_telegram_refused_every_time_gets_the_apology(harness: Harness) -> None:
    update = harness.bind(make_update(11))
    assert not await run_error_handler(harness, update, NetworkError("Bad Gateway"))
    assert [params["text"] for _, params in harness.bot.sent] == [texts.ERROR]


async def test_when_the_apology_fails_too_the_update_is_tried_again_later(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(12))
    harness.bot.failures = [NetworkError("Bad Gateway")]
    assert await run_error_handler(harness, update, NetworkError("Bad Gateway"))


async def test_a_group_question_telegram_refused_is_tried_again_without_an_apology(
    harness: Harness,
) -> None:
    update = harness.bind(make_update(13, group=True))
    assert await run_error_handler(harness, update, NetworkError("Bad Gateway"))
    assert harness.bot.sent == []


async def test_a_bug_or_a_4xx_gets_the_apology_and_is_not_retried(harness: Harness) -> None:
    update = harness.bind(make_update(14))
    assert not await run_error_handler(harness, update, BadRequest("can't parse entities"))
    assert [params["text"] for _, params in harness.bot.sent] == [texts.ERROR]
    button = harness.bind(callback_update(15))
    harness.bot.failures = [Forbidden("bot was blocked by the user")]
    assert not await run_error_handler(harness, button, ValueError("a bug"))


def test_a_clock_ahead_of_telegrams_is_measured_only_from_fresh_messages(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages that arrived during a poll after an empty one are at most that poll old; if
    they look older, this clock is ahead, and lateness is measured with that in mind."""
    delivery = harness.delivery
    fresh = make_update(20, age=125)  # "125 s old" by our clock, though written just now
    with caplog.at_level(logging.WARNING, logger="faqbot"):
        delivery._measure_skew([fresh], waited=3.0)
    assert 115 <= delivery.skew <= 125
    assert "ahead of Telegram's" in caplog.text
    now = time.time()
    assert delivery._age(make_update(21, age=125), now, now) < 10
    assert delivery._age(make_update(22, age=11 * 60 + 125), now, now) > 10 * 60
