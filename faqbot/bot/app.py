"""Building and running the python-telegram-bot Application.

Every handler is registered in ``build_application``. ``run`` drives the application's own life
cycle (``initialize``, ``start``, ``stop``, ``shutdown``) rather than ``run_polling``, because
the bot needs three things that one does not give: updates stored in the inbox before Telegram
is told they arrived (``faqbot.bot.delivery``), one ``Error: ...`` sentence for every start-up
failure, and a stop within ``FAQBOT_SHUTDOWN_SECONDS`` whatever the backlog, the disk or
Telegram is doing.

Start-up, in order: the question log (with the inbox) is opened first, so a read-only, full or
damaged data directory is reported before Telegram is contacted; then ``getMe`` (the token and
the network), ``post_init`` (the matcher, the command menu), the replay of what the inbox holds
from before, the JobQueue (the daily purge at once, inbox upkeep, reload checks, the digest),
and last the intake (long polling or the webhook server).

Stopping (SIGTERM or SIGINT): no more updates are taken; those in progress get what is left of
the grace time after a reserve for closing, the rest are cancelled and stay in the inbox; the
question log is flushed and closed; a watchdog ends the process if anything still hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from faqbot.bot import digest, handlers, replicas
from faqbot.bot.addressing import COMMAND_FOR_A_BOT
from faqbot.bot.commands import COMMANDS, bot_commands, public_commands
from faqbot.bot.context import CONTEXT_TYPES, BotApplication, BotContext
from faqbot.bot.delivery import (
    ALLOWED_UPDATES,
    MAINTENANCE_SECONDS,
    Delivery,
    DeliveryProcessor,
    InboxQueue,
    maintain_inbox,
)
from faqbot.bot.sending import FaqBot
from faqbot.bot.transport import PollRequest, RetryingRequest, build_requests
from faqbot.coordination import KNOWLEDGE, Coordination
from faqbot.kb import KnowledgeBase
from faqbot.matcher import Matcher
from faqbot.questionlog import open_log
from faqbot.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ALLOWED_UPDATES", "StartupError", "build_application", "run"]

# The handler of each command in the one table (commands.COMMANDS); a test keeps them in step.
COMMAND_HANDLERS = {
    "start": handlers.start,
    "spoerg": handlers.ask,
    "emner": handlers.topics,
    "kilder": handlers.sources,
    "privatliv": handlers.privacy,
    "hjaelp": handlers.help_command,
    "rapport": handlers.report,
    "ubesvarede": handlers.unanswered,
    "genindlaes": handlers.reload_knowledge,
}

# Aliases people type (Danish letters, English), kept out of the menu.
COMMAND_ALIASES = {"help": handlers.help_command, "spørg": handlers.ask}


CONCURRENT_UPDATES = 32
"""Updates handled at once. Matching is CPU-bound and fast, so more only adds scheduling cost;
32 keeps ~30 replies/s flowing even at 1 s Bot API round trips."""

CONNECTIONS = CONCURRENT_UPDATES + 4
"""Connections to the Bot API: one for every update being handled and a few spare, so a reply
never waits for a connection while others hang until their read timeout (a Telegram fault the
tests inject). httpx checks every pooled connection on each request, so a pool of 8 cost less
CPU in bench/bot.py (5.3-6.4 against 6.5-8.5 ms a reply, noisy), but at a 1 s round trip it
would carry only 8 replies a second; idle connections cost nothing at Telegram's 30 a second."""

INTAKE_STOP_SECONDS = 1.5
"""At most this long to stop taking updates (the webhook server's open requests)."""
CLOSE_RESERVE_SECONDS = 2.5
"""Of the shutdown grace time, this much is kept for stopping jobs and closing the log."""
WATCHDOG_MARGIN_SECONDS = 1.0
"""The watchdog ends the process this long after the grace time, if it still runs."""


class StartupError(Exception):
    """The bot cannot start for a reason the operator can fix; the message is one sentence."""


class TelegramRefusedError(StartupError):
    """Telegram refused the running bot for good (its token was revoked): it stopped, and the
    operator must fix this before the next start; the message is one sentence."""


def file_base_url(base_url: str) -> str:
    """The Bot API file URL beside ``base_url``: ``.../bot`` becomes ``.../file/bot``."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url


def build_application(settings: Settings, kb: KnowledgeBase) -> BotApplication:
    """The Application with every handler, the transport, flood control and the delivery."""
    if not settings.telegram_token:
        raise ValueError("a bot token is needed to build the Telegram application")
    requests = build_requests(settings, CONNECTIONS)
    delivery = Delivery(max_age=timedelta(minutes=settings.replay_max_age_minutes))
    # python-telegram-bot's ExtBot, mending what Telegram refuses for a known reason (sending.py)
    bot: ExtBot[Any] = FaqBot(
        token=settings.telegram_token,
        base_url=settings.telegram_base_url,
        base_file_url=file_base_url(settings.telegram_base_url),
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            allow_sending_without_reply=True,
        ),
        rate_limiter=AIORateLimiter(
            overall_max_rate=settings.rate_limit_per_second,
            overall_time_period=1,
            max_retries=settings.rate_limit_retries,
        ),
        request=requests[0],
        get_updates_request=requests[1],
    )
    application: BotApplication = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[BotContext]())
        .bot(bot)
        .concurrent_updates(DeliveryProcessor(CONCURRENT_UPDATES, delivery))
        .update_queue(InboxQueue(delivery))
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.kb = kb
    application.bot_data.requests = requests  # closed by run() even when start-up fails
    application.bot_data.delivery = delivery

    # First (group -1): a command addressed to another bot (/spørg@otherbot) goes no further.
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.Regex(COMMAND_FOR_A_BOT),
            handlers.command_for_another_bot,
        ),
        group=-1,
    )
    for name, callback in (*COMMAND_HANDLERS.items(), *COMMAND_ALIASES.items()):
        if name.isascii():
            application.add_handler(CommandHandler(name, callback))
        else:  # Telegram commands are ASCII; "/spørg" arrives as text
            application.add_handler(
                MessageHandler(filters.Regex(rf"^/{name}(?:@\w+)?(?:\s|$)"), callback)
            )
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, handlers.text_message
        )
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, handlers.unknown_command)
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
            handlers.other_message,
        )
    )
    application.add_error_handler(handlers.on_error)
    assert application.job_queue is not None, "built with a JobQueue above"
    application.job_queue.run_repeating(
        maintain_inbox,
        interval=MAINTENANCE_SECONDS,
        first=MAINTENANCE_SECONDS,
        name="faqbot-inbox-maintenance",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    application.job_queue.run_repeating(
        replicas.follow_reloads,
        interval=replicas.RELOAD_CHECK_SECONDS,
        first=replicas.RELOAD_CHECK_SECONDS,
        name="faqbot-follow-reloads",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    application.job_queue.run_repeating(
        replicas.daily_purge,
        interval=replicas.PURGE_CHECK_SECONDS,
        first=0,
        name=replicas.PURGE_JOB_NAME,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    if settings.digest_time is not None:
        digest.schedule(application.job_queue, settings.digest_time)
    return application


async def open_resources(application: BotApplication) -> None:
    """Open the question log, attach the inbox to it and note which knowledge base version the
    replicas are at (before Telegram is contacted)."""
    data = application.bot_data
    log = await open_log(data.settings)
    data.log = log
    assert data.delivery is not None, "build_application sets the delivery"
    data.delivery.attach(application, log)
    data.coordination = Coordination(log, owner=data.delivery.owner)
    data.knowledge_version = await data.coordination.version(KNOWLEDGE)


async def post_init(application: BotApplication) -> None:
    """Build the matcher, set the command menu, make SIGUSR1 send the digest."""
    data = application.bot_data
    settings, kb = data.settings, data.kb
    assert kb is not None, "build_application sets the knowledge base"
    data.matcher = Matcher(kb)
    await set_commands(application, settings)
    _on_signal_send_digest(application)


async def set_commands(application: BotApplication, settings: Settings) -> None:
    """The menu from the one table: public commands for all, every command for each leader."""
    public = bot_commands(public_commands())
    everything = bot_commands(COMMANDS)
    try:
        await application.bot.set_my_commands(public)
    except TelegramError as error:
        logger.warning("could not set the command menu: %s", error)
    for admin_id in sorted(settings.admin_ids):
        try:
            await application.bot.set_my_commands(everything, scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:  # e.g. the leader has not started a chat with the bot yet
            logger.info("could not set the leaders' menu for one admin: %s", error)
        else:  # Telegram knows the chat, so the weekly digest can reach this leader too
            application.bot_data.log.record_leader_chat(admin_id)


def _on_signal_send_digest(application: BotApplication) -> None:
    """SIGUSR1 sends the weekly digest now (where the platform has the signal); with the
    digest switched off it only says so, rather than the signal's default: ending the bot."""
    settings = application.bot_data.settings
    job_queue = application.job_queue
    assert job_queue is not None, "build_application gives the application a job queue"
    if settings.digest_time is None:
        logger.info("weekly digest off (FAQBOT_DIGEST_TIME=off)")
    else:
        logger.info(
            "weekly digest: Mondays at %s Europe/Copenhagen; SIGUSR1 sends it now",
            settings.digest_time.strftime("%H:%M"),
        )

    def send_now() -> None:
        if settings.digest_time is None:
            logger.info("SIGUSR1: the weekly digest is off (FAQBOT_DIGEST_TIME=off); nothing sent")
            return
        logger.info("SIGUSR1: sending the weekly digest now")
        digest.run_now(job_queue)

    if hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, send_now)


async def post_shutdown(application: BotApplication) -> None:
    """Stop the background tasks, hand unfinished updates back, flush and close the log."""
    if hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR1)
    tasks, application.bot_data.tasks = application.bot_data.tasks, []
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    delivery = application.bot_data.delivery
    log = application.bot_data.take_log()
    if log is None:
        return
    if delivery is not None and delivery.held:  # others (or the next start) may take them at
        # once; if this fails (a full disk), their leases run out in a few seconds instead
        with contextlib.suppress(Exception):
            await asyncio.wait_for(delivery.inbox.release_mine(), timeout=1.0)
    await log.close()
    logger.debug("question log flushed and closed")


@dataclass(frozen=True)
class Webhook:
    """Where the webhook server listens and what it tells Telegram."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    url_path: str = ""


class Runner:
    """One run of the bot: start-up, serving until a stop signal, a bounded shutdown."""

    def __init__(self, application: BotApplication, webhook: Webhook | None = None) -> None:
        self.application = application
        self.settings = application.bot_data.settings
        self.webhook = webhook
        self.stop_requested = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._lease: replicas.PollerLease | None = None
        self._started = False
        if application.bot_data.delivery is not None:  # a revoked token stops the bot
            application.bot_data.delivery.on_fatal = self.request_stop
        self.clean = True
        """False when a shutdown step ran out of time (the watchdog may have to end it)."""

    def request_stop(self) -> None:
        """The signal handler: stop, and make sure the process ends in time whatever hangs."""
        if self.stop_requested.is_set():
            return
        self.stop_requested.set()
        logger.info("stopping (within %.0f s)", self.settings.shutdown_seconds)
        watchdog = threading.Timer(
            self.settings.shutdown_seconds + WATCHDOG_MARGIN_SECONDS, _watchdog_exit
        )
        watchdog.daemon = True
        watchdog.start()

    async def serve(self) -> None:
        """Start, serve until SIGTERM/SIGINT, stop. Start-up failures propagate."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        try:
            starting = asyncio.create_task(self._start(), name="faqbot-start-up")
            stopping = asyncio.create_task(self.stop_requested.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():  # a stop signal during start-up
                starting.cancel()
                await asyncio.wait({starting}, timeout=1.0)
            elif starting.exception() is None:
                self._started = True
                await stopping
            stopping.cancel()
            try:
                if starting.done() and not starting.cancelled():
                    starting.result()  # a start-up failure propagates (after the clean-up)
            finally:
                await self._shutdown()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    async def _start(self) -> None:
        application = self.application
        data = application.bot_data
        request = next((r for r in data.requests if isinstance(r, RetryingRequest)), None)
        if request is not None:
            request.retry_log_level = logging.DEBUG
        await open_resources(application)
        await application.initialize()  # getMe: the token and the network
        await post_init(application)
        assert data.delivery is not None
        replayed = await data.delivery.recover()
        await application.start()
        if self.webhook is not None:
            assert application.updater is not None
            try:
                await application.updater.start_webhook(
                    listen=self.webhook.listen,
                    port=self.webhook.port,
                    url_path=self.webhook.url_path,
                    webhook_url=self.webhook.url,
                    secret_token=self.settings.webhook_secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                    bootstrap_retries=0,
                )
            except OSError as error:
                raise StartupError(
                    f"cannot listen for the webhook on {self.webhook.listen}:"
                    f"{self.webhook.port} ({error.strerror or error}); choose another --port or "
                    "--listen address."
                ) from error
        else:
            await application.bot.delete_webhook()  # getUpdates conflicts with a webhook
            poll_request = next((r for r in data.requests if isinstance(r, PollRequest)), None)
            assert data.coordination is not None, "open_resources sets it"
            self._lease = replicas.PollerLease(data.coordination)
            self._poller = asyncio.create_task(
                data.delivery.poll(poll_request, self._lease), name="faqbot-polling"
            )
        if request is not None:
            request.retry_log_level = logging.WARNING
        kb = data.kb
        logger.info(
            "faqbot ready as @%s: %d items, question log %s%s",
            application.bot.username,
            len(kb.items) if kb else 0,
            self.settings.database,
            f", {replayed} update(s) from before the restart" if replayed else "",
        )

    async def _shutdown(self) -> None:
        """Stop within the grace time, whatever hangs; every step has a deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.shutdown_seconds
        application = self.application
        delivery = application.bot_data.delivery

        if self._poller is not None:
            self._poller.cancel()
            await self._bounded(self._poller, loop.time() + INTAKE_STOP_SECONDS, "polling")
        if self._lease is not None:  # a standing-by replica takes over at once
            await self._bounded(self._lease.release(), loop.time() + 1.0, "the poller lease")
        updater = application.updater
        if updater is not None and updater.running:
            await self._bounded(updater.stop(), loop.time() + INTAKE_STOP_SECONDS, "the webhook")
        unfinished = 0
        if delivery is not None:
            grace = deadline - CLOSE_RESERVE_SECONDS - loop.time()
            unfinished = await delivery.stop(grace)
        if application.running:
            await self._bounded(application.stop(), loop.time() + 1.0, "the application")
        await self._bounded(post_shutdown(application), deadline - 0.5, "closing the question log")
        if not application.running:
            await self._bounded(application.shutdown(), deadline, "the transport")
        for request in application.bot_data.requests:  # start-up may have failed half-way
            await self._bounded(request.shutdown(), deadline, "the transport")
        if self._started:
            logger.info(
                "stopped%s",
                f"; {unfinished} unfinished update(s) will be handled after the next start"
                if unfinished
                else "",
            )

    async def _bounded(self, step: Awaitable[Any], until: float, what: str) -> None:
        """Await ``step`` until ``until`` (loop time) at most; a step that fails or runs out of
        time is logged and left behind."""
        remaining = until - asyncio.get_running_loop().time()
        task = asyncio.ensure_future(step)
        try:
            await asyncio.wait_for(task, timeout=max(0.05, remaining))
        except TimeoutError:
            self.clean = False
            logger.warning("stopping %s took too long; left behind", what)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        except Exception as error:
            self.clean = False
            logger.warning("stopping %s failed: %s", what, error)


def _watchdog_exit() -> None:
    """The last resort: a shutdown step hung past the grace time (a stuck disk or thread)."""
    logger.warning("shutdown grace time exceeded; exiting now (the inbox keeps what is unfinished)")
    os._exit(0)  # no logging.shutdown(): a stuck thread may hold a handler's lock


def run(
    settings: Settings,
    kb: KnowledgeBase,
    *,
    webhook_url: str | None = None,
    listen: str = "127.0.0.1",
    port: int = 8443,
    url_path: str = "",
) -> None:
    """Run until SIGINT/SIGTERM: long polling, or a webhook when ``webhook_url`` is given."""
    application = build_application(settings, kb)
    webhook = Webhook(webhook_url, listen, port, url_path) if webhook_url else None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner = Runner(application, webhook)
    try:
        loop.run_until_complete(runner.serve())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    delivery = application.bot_data.delivery
    fatal = delivery.fatal if delivery is not None else None
    if not runner.clean:  # a stuck worker thread (e.g. the database's) would block the exit
        logging.shutdown()
        if fatal is not None:
            print(f"Error: {fatal}", file=sys.stderr, flush=True)
        os._exit(1 if fatal is not None else 0)
    if fatal is not None:
        raise TelegramRefusedError(fatal)
