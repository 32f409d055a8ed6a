"""Delivery: every update the bot accepts is answered, across crashes, restarts, shutdowns and
Telegram's bad minutes. The storage half is ``faqbot.inbox``; this is the bot's half.

Intake. An update is stored in the inbox before Telegram is told it arrived. For long polling
``poll`` is the bot's own ``getUpdates`` loop (run only while this replica holds the poller
lease, ``faqbot.bot.replicas``): python-telegram-bot's ``Updater`` moves the offset
past a batch as soon as it is in the in-memory queue (``_last_update_id = updates[-1].update_id +
1`` right after ``update_queue.put``), so its next ``getUpdates`` confirms updates nobody has
handled yet and a crash loses them. Here the next ``getUpdates`` waits until the batch is
committed. For webhooks ``InboxQueue`` (the application's update queue) stores an update
before the webhook server answers Telegram with its HTTP 200.

Handling. ``DeliveryProcessor`` is python-telegram-bot's update-processor hook: it runs each
update with its question-log rows held back (``QuestionLog.holding``) and then commits them with
the inbox's done mark. When Telegram did not take the reply even after the transport's retries
(and so the user heard nothing) the update is handed back to the inbox and tried again later.

Replay. At start-up (and every ``MAINTENANCE_SECONDS``) the pending updates nobody holds (their
lease ran out: handed back, or their replica died) are taken from the inbox and handled, by
whichever replica gets to them first. One older than ``FAQBOT_REPLAY_MAX_AGE_MINUTES`` (counted from
when it was written, by Telegram's timestamp, or from when it reached the inbox) is not answered
as if it were new: a private message gets a short apology asking to ask again (or, if it is an
acute crisis message, the safety answer, which is never withheld); anything else (a group
message, a button press) is dropped, as a late answer in a group or a late button effect would
confuse more than help.

Shutdown. ``stop`` stops taking updates, gives those in progress a few seconds, cancels the
rest and hands everything unfinished back to the inbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseUpdateProcessor

from faqbot.bot import texts, transport
from faqbot.bot.replicas import STANDBY_CHECK_SECONDS
from faqbot.inbox import ACCEPT_LIMIT, Inbox, InboxEntry
from faqbot.matcher import Status

if TYPE_CHECKING:
    from faqbot.bot.context import BotApplication, BotContext
    from faqbot.bot.replicas import PollerLease
    from faqbot.coordination import Coordination
    from faqbot.questionlog import QuestionLog

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
"""Only what the bot handles; edits, reactions and member updates are never fetched."""
POLL_TIMEOUT = 10
"""Seconds one ``getUpdates`` long poll waits for news at most (less while the poller lease
has less left: ``faqbot.bot.replicas``)."""
POLL_SLACK_SECONDS = 1.0
"""Of the time the lease leaves, this much is kept for the request around a long poll."""
MIN_POLL_SECONDS = 1.0
"""A long poll starts only with at least this much of the lease left."""
POLL_BACKOFF_CAP = 30.0
"""While Telegram is unreachable, ``getUpdates`` is retried at least this often."""
MAINTENANCE_SECONDS = 3.0
"""How often this replica renews its leases on the updates it holds (``faqbot.inbox.LEASE``) and
takes updates whose lease ran out (handed back, or their replica died)."""
PRUNE_EVERY = 1200
"""Done rows and old job runs are pruned every this many maintenance runs (an hour)."""
MAX_ATTEMPTS = 5
"""An update whose holder died this often (a crash, an OOM kill, never a hand-back) is given up
(logged), so one that crashes the bot cannot stop it for good."""
RETRY_DELAY_SECONDS = 20.0
"""A handed-back update waits at least this long before it is tried again."""
SKEW_WARNING_SECONDS = 60.0
CONFLICT_BACKOFF_SECONDS = 15.0
"""After a 409 Conflict (another instance polls, or a webhook is set) ``getUpdates`` waits this
long before it asks again, so two instances do not keep cutting each other off."""
FLOOD_WAIT_CAP_SECONDS = 300.0
"""A 429 on ``getUpdates`` is waited out as Telegram asks, up to this long."""
TOKEN_REVOKED = (
    "Telegram no longer accepts TELEGRAM_BOT_TOKEN (it was revoked, or the bot was deleted); "
    "put the bot's current token from @BotFather in TELEGRAM_BOT_TOKEN and start faqbot again: "
    "the unanswered questions wait in its inbox."
)


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asks for, in seconds (python-telegram-bot is moving it from int to
    timedelta; either is read without the deprecation warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def conflict_advice(error: Conflict) -> str:
    """What a 409 on ``getUpdates`` means for the operator, in one line."""
    if "webhook" in str(error).lower():
        return (
            "a webhook is set for this bot, so Telegram refuses long polling; run this instance "
            "with --webhook-url, or stop whatever set the webhook and restart faqbot"
        )
    return (
        "another instance is polling with the same TELEGRAM_BOT_TOKEN; make sure only one "
        "runs (or let replicas share one database, so only one of them polls)"
    )


def is_transient(error: BaseException) -> bool:
    """A failure that can go away by itself: Telegram or the network, not the request."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


@dataclass
class _Unit:
    """One update being handled: whether it should be handed back instead of marked done."""

    update_id: int
    hand_back: bool = False


_UNIT: ContextVar[_Unit | None] = ContextVar("faqbot_delivery_unit", default=None)


@contextlib.contextmanager
def _handling(update_id: int) -> Iterator[_Unit]:
    unit = _Unit(update_id)
    token = _UNIT.set(unit)
    try:
        yield unit
    finally:
        _UNIT.reset(token)


def hand_back() -> bool:
    """Ask for the update being handled to be tried again later instead of marked done.

    For the error handler when Telegram did not take a reply; False outside a delivered update
    (nothing could be retried).
    """
    unit = _UNIT.get()
    if unit is None:
        return False
    unit.hand_back = True
    return True


def reply_maybe_delivered() -> bool:
    """Whether a failed request of this update may still have reached Telegram."""
    record = transport.current_record()
    return record is not None and record.maybe_delivered


def default_owner() -> str:
    """This process's name in the inbox's claims: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Delivery:
    """The bot's side of the inbox: intake, handling, replay and shutdown."""

    def __init__(self, *, max_age: timedelta, owner: str | None = None) -> None:
        self.max_age = max_age
        self.owner = owner or default_owner()
        self._inbox: Inbox | None = None
        self._application: BotApplication | None = None
        self.held: set[int] = set()
        """Updates this process has claimed and not finished (queued or in progress)."""
        self.in_flight: dict[int, asyncio.Task[Any]] = {}
        self.late: set[int] = set()
        self.stopping = False
        self.skew = 0.0
        """Seconds this machine's clock is ahead of Telegram's (measured while polling)."""
        self.fatal: str | None = None
        """Why the bot must stop (one sentence): Telegram refuses it for good."""
        self.on_fatal: Callable[[], None] | None = None
        """Called once when ``fatal`` is set (the runner stops the bot)."""
        self._maintenance_runs = 0

    # -- set-up ---------------------------------------------------------------------------

    def attach(self, application: BotApplication, log: QuestionLog) -> Inbox:
        """Use ``log``'s inbox for ``application``'s updates."""
        self._application = application
        self._inbox = Inbox(log, owner=self.owner)
        return self._inbox

    @property
    def attached(self) -> bool:
        """Whether updates go through the inbox yet (from start-up on)."""
        return self._inbox is not None

    @property
    def inbox(self) -> Inbox:
        if self._inbox is None:
            raise RuntimeError("the inbox is attached once the question log is open")
        return self._inbox

    @property
    def application(self) -> BotApplication:
        if self._application is None:
            raise RuntimeError("the delivery is attached in start-up")
        return self._application

    def give_up(self, reason: str) -> None:
        """Telegram refuses the bot for good (a revoked token): stop; what is unfinished stays
        in the inbox for the next start."""
        if self.fatal is not None:
            return
        self.fatal = reason
        logger.warning("Telegram refuses the bot's token (401 Unauthorized); stopping")
        if self.on_fatal is not None:
            self.on_fatal()

    # -- intake ---------------------------------------------------------------------------

    async def accept(
        self, updates: Sequence[Update], raw: Mapping[int, str] | None = None
    ) -> list[Update]:
        """Store ``updates`` durably (claimed by this process); return the new ones in order.
        ``raw`` has them as Telegram sent them, where known (else they are serialised)."""
        if not updates:
            return []
        raw = raw or {}
        stored = await self.inbox.accept(
            [
                (update.update_id, raw.get(update.update_id) or json.dumps(update.to_dict()))
                for update in updates
            ]
        )
        now = time.time()
        fresh = [update for update in updates if update.update_id in stored]
        for update in fresh:
            self.held.add(update.update_id)
            if self._age(update, now, now) > self.max_age.total_seconds():
                self.late.add(update.update_id)
        return fresh

    def enqueue(self, updates: Sequence[Update]) -> None:
        """Hand accepted updates to the application's handlers."""
        queue = self.application.update_queue
        for update in updates:
            queue.put_nowait(update)

    async def poll(
        self, request: transport.PollRequest | None = None, lease: PollerLease | None = None
    ) -> None:
        """Long-poll ``getUpdates`` until cancelled; each batch is committed to the inbox
        before the next call's offset confirms it to Telegram. ``request`` is the transport
        ``getUpdates`` goes through, for the updates as Telegram sent them. With ``lease``
        (several replicas may run) it polls only while it holds the poller lease, and no long
        poll outlasts the lease."""
        bot = self.application.bot
        loop = asyncio.get_running_loop()
        offset = 0
        failures = 0
        drained = False  # the previous poll found nothing: Telegram holds no backlog
        unreadable_up_to = 0  # the last update id of a batch python-telegram-bot could not read
        while True:
            timeout, budget = POLL_TIMEOUT, None
            if lease is not None:
                budget = await lease.hold() - loop.time()
                if budget < MIN_POLL_SECONDS:  # standing by, or renewing soon
                    await asyncio.sleep(STANDBY_CHECK_SECONDS if not lease.held else 0.05)
                    continue
                timeout = max(0, min(POLL_TIMEOUT, int(budget - POLL_SLACK_SECONDS)))
            started = loop.time()
            try:
                updates = await asyncio.wait_for(
                    bot.get_updates(
                        offset=offset,
                        timeout=timeout,
                        limit=ACCEPT_LIMIT,
                        allowed_updates=list(ALLOWED_UPDATES),
                    ),
                    budget,
                )
            except TimeoutError:  # the lease's end came first: ask again once renewed
                continue
            except (KeyError, TypeError, ValueError) as error:  # a batch it cannot read
                updates, unreadable_up_to = self._readable(request, error)
                if not unreadable_up_to:
                    await asyncio.sleep(1.0)
                    continue
                offset = max(offset, unreadable_up_to + 1)
            except InvalidToken:
                self.give_up(TOKEN_REVOKED)
                return
            except Conflict as error:
                failures += 1
                logger.warning(
                    "getUpdates answered 409 Conflict: %s; asking again in %.0f s",
                    conflict_advice(error),
                    CONFLICT_BACKOFF_SECONDS,
                )
                await asyncio.sleep(CONFLICT_BACKOFF_SECONDS)
                continue
            except RetryAfter as error:
                failures += 1
                wait = min(FLOOD_WAIT_CAP_SECONDS, retry_after_seconds(error))
                logger.warning("flood control on getUpdates: waiting %.0f s as Telegram asks", wait)
                await asyncio.sleep(wait)
                continue
            except TelegramError as error:
                failures += 1
                delay = min(POLL_BACKOFF_CAP, transport.backoff_delay(failures - 1) * 2)
                logger.warning(
                    "Telegram unreachable while polling (%s); trying again in %.1f s",
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if failures:
                logger.info("polling works again after %d failed attempt(s)", failures)
                failures = 0
            if not updates:
                drained = True
                continue
            if drained and timeout > 0:
                self._measure_skew(updates, loop.time() - started)
            drained = False
            try:
                fresh = await self.accept(updates, request.raw_updates() if request else None)
            except Exception as error:  # the offset stays: Telegram keeps the updates
                logger.warning(
                    "could not store %d update(s) (%s); asking again", len(updates), error
                )
                await asyncio.sleep(1.0)
                continue
            offset = max(offset, max(update.update_id for update in updates) + 1)
            self.enqueue(fresh)

    def _readable(
        self, request: transport.PollRequest | None, error: Exception
    ) -> tuple[tuple[Update, ...], int]:
        """The updates of the last ``getUpdates`` answer that can be read, one by one, and the
        last update id in it (0 if unknown): an update python-telegram-bot cannot read (a
        field it does not expect) is logged and skipped, never allowed to stop polling."""
        raw = request.raw_updates() if request is not None else {}
        readable = []
        for update_id, payload in sorted(raw.items()):
            try:
                readable.append(Update.de_json(json.loads(payload), self.application.bot))
            except (KeyError, TypeError, ValueError) as problem:
                logger.warning("skipped update %d: it cannot be read (%r)", update_id, problem)
        if not raw:
            logger.warning("could not read Telegram's answer to getUpdates (%r)", error)
        return tuple(readable), max(raw, default=0)

    def _measure_skew(self, updates: Sequence[Update], waited: float) -> None:
        """After a poll that found nothing, the next one returns messages written while it
        waited: if they look older than that, this clock runs ahead of Telegram's."""
        dates = [update.message.date.timestamp() for update in updates if update.message]
        if not dates:
            return
        skew = max(0.0, time.time() - max(dates) - waited - 1.0)  # dates are whole seconds
        if skew > SKEW_WARNING_SECONDS and self.skew <= SKEW_WARNING_SECONDS:
            logger.warning("this machine's clock seems %.0f s ahead of Telegram's; check NTP", skew)
        self.skew = skew

    def _age(self, update: Update, received_at: float, now: float) -> float:
        """Seconds since the update was written (Telegram's timestamp) or reached the inbox."""
        born = received_at
        if update.message is not None:
            born = min(born, update.message.date.timestamp() + self.skew)
        return now - born

    # -- replay ---------------------------------------------------------------------------

    async def recover(self) -> int:
        """At start-up: take what is pending and nobody holds. Claims of a process that died
        run out by themselves (``faqbot.inbox.LEASE``) and are taken then: another replica may
        still be working on them, so none is freed here."""
        return await self.redeliver()

    async def redeliver(self) -> int:
        """Take the pending updates nobody holds and queue them; return how many."""
        taken = 0
        while True:
            entries = await self.inbox.claim()
            if not entries:
                return taken
            updates = [update for entry in entries if (update := self._revive(entry))]
            self.enqueue(updates)
            taken += len(updates)
            if len(entries) < ACCEPT_LIMIT:
                return taken

    def _revive(self, entry: InboxEntry) -> Update | None:
        if entry.update_id in self.held:  # still queued here (its lease could not be renewed)
            return None
        if entry.attempts > MAX_ATTEMPTS:
            logger.warning(
                "gave up update %d after %d attempts to handle it", entry.update_id, MAX_ATTEMPTS
            )
            self.inbox.complete(entry.update_id)
            return None
        try:
            update = Update.de_json(json.loads(entry.payload), self.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning(
                "dropped unreadable update %d from the inbox (%s)", entry.update_id, error
            )
            self.inbox.complete(entry.update_id)
            return None
        self.held.add(entry.update_id)
        now = time.time()
        if self._age(update, entry.received_at.timestamp(), now) > self.max_age.total_seconds():
            self.late.add(entry.update_id)
        return update

    async def maintain(self, coordination: Coordination | None = None) -> None:
        """Renew this process's leases, take updates whose lease ran out, prune done rows
        (and old job runs)."""
        await self.inbox.renew(list(self.held))
        await self.redeliver()
        self._maintenance_runs += 1
        if self._maintenance_runs % PRUNE_EVERY == 1:
            await self.inbox.prune()
            if coordination is not None:
                await coordination.prune_jobs()

    # -- handling -------------------------------------------------------------------------

    async def process(self, update: Update, coroutine: Awaitable[Any]) -> None:
        """Handle one update; then mark it done (with its rows) or hand it back."""
        update_id = update.update_id
        if self.stopping:  # still queued at shutdown: it stays in the inbox for the next start
            _close(coroutine)
            return
        task = asyncio.current_task()
        if task is not None:
            self.in_flight[update_id] = task
        log = self.inbox.log
        failed = False
        try:
            with log.holding() as held, transport.recording(), _handling(update_id) as unit:
                if update_id in self.late:
                    await self._answer_late(update, coroutine)
                else:
                    await coroutine
        except Exception:  # handlers' errors never get here (the application's error handler
            # has them): this is a bug in the delivery itself; give the update up, do not loop
            logger.exception("could not handle update %d; it is given up", update_id)
            failed = True
        finally:
            self.in_flight.pop(update_id, None)
        self.held.discard(update_id)
        self.late.discard(update_id)
        if unit.hand_back and not failed:
            await self.inbox.release([update_id], retry_in=RETRY_DELAY_SECONDS)
        else:
            self.inbox.complete(update_id, None if failed else held)

    async def _answer_late(self, update: Update, coroutine: Awaitable[Any]) -> None:
        """An update older than the replay age: see the module docstring."""
        message = update.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            _close(coroutine)
            logger.info("dropped update %d: too old to answer", update.update_id)
            return
        text = message.text or message.caption or ""
        matcher = self.application.bot_data.matcher
        if text and matcher.match(text).status is Status.SAFETY:
            await coroutine
            return
        _close(coroutine)
        try:
            await message.reply_text(texts.LATE_APOLOGY, do_quote=True)  # which message
        except TelegramError as error:
            if is_transient(error):
                hand_back()
            logger.warning("could not send a late apology: %s", error)

    # -- shutdown -------------------------------------------------------------------------

    async def stop(self, grace: float) -> int:
        """Take no more updates; wait up to ``grace`` seconds for those in progress, cancel the
        rest. Return how many updates stay unfinished (the inbox keeps them)."""
        self.stopping = True
        tasks = set(self.in_flight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, grace))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        return len(self.held)


def _close(coroutine: Awaitable[Any]) -> None:
    """Discard a handler coroutine that will not run."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()


class DeliveryProcessor(BaseUpdateProcessor):
    """python-telegram-bot's update processor, handing every ``Update`` to the delivery."""

    def __init__(self, max_concurrent_updates: int, delivery: Delivery) -> None:
        super().__init__(max_concurrent_updates)
        self.delivery = delivery

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if isinstance(update, Update) and self.delivery.attached:
            await self.delivery.process(update, coroutine)
        else:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to open: the inbox comes with the question log."""

    async def shutdown(self) -> None:
        """Nothing to close."""


class InboxQueue(asyncio.Queue[object]):
    """The application's update queue. An ``Update`` put by the webhook server is stored in
    the inbox first, so Telegram's HTTP 200 means it is on disk (a failure answers 500 and
    Telegram sends the update again); a repeat of a stored update is dropped."""

    def __init__(self, delivery: Delivery) -> None:
        super().__init__()
        self.delivery = delivery

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.delivery.attached:
            for update in await self.delivery.accept([item]):
                self.put_nowait(update)
            return
        await super().put(item)


async def maintain_inbox(context: BotContext) -> None:
    """The JobQueue job behind ``Delivery.maintain``; a failure is retried next time."""
    delivery = context.bot_data.delivery
    if delivery is None or delivery.stopping or not delivery.attached:
        return
    try:
        await delivery.maintain(context.bot_data.coordination)
    except Exception as error:
        logger.warning("inbox maintenance failed (%s); trying again later", error)
