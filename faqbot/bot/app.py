"""Building and running the python-telegram-bot Application.

Every handler is registered in ``build_application``; resources (matcher, question log, the
daily purge task) are opened in ``post_init`` and closed in ``post_shutdown``, which
``run_polling``/``run_webhook`` call on SIGINT/SIGTERM as well, so a stop always flushes the
question log. The daily retention purge is a plain asyncio task (``QuestionLog.purge_daily``)
rather than a JobQueue job: it needs no APScheduler dependency and is one line to cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    JobQueue,
    MessageHandler,
    filters,
)

from faqbot.bot import digest, handlers
from faqbot.bot.addressing import COMMAND_FOR_A_BOT
from faqbot.bot.commands import COMMANDS, bot_commands, public_commands
from faqbot.bot.context import CONTEXT_TYPES, BotApplication, BotContext
from faqbot.bot.request import AiohttpRequest
from faqbot.kb import KnowledgeBase
from faqbot.matcher import Matcher
from faqbot.questionlog import QuestionLog, load_or_create_secret
from faqbot.settings import Settings

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
"""Only what the bot handles; edits, reactions and member updates are never fetched."""

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
32 keeps ~30 replies/s flowing even at 1 s Bot API round trips. The pool has a few spare
connections so error replies and callback answers never wait for one."""


def file_base_url(base_url: str) -> str:
    """The Bot API file URL beside ``base_url``: ``.../bot`` becomes ``.../file/bot``."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url


def build_application(settings: Settings, kb: KnowledgeBase) -> BotApplication:
    """The Application with every handler, flood control, and the resources' life cycle."""
    if not settings.telegram_token:
        raise ValueError("a bot token is needed to build the Telegram application")
    requests = (AiohttpRequest(CONCURRENT_UPDATES + 4), AiohttpRequest(1))
    application: BotApplication = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[BotContext]())
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(file_base_url(settings.telegram_base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.rate_limit_per_second,
                overall_time_period=1,
                max_retries=settings.rate_limit_retries,
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .request(requests[0])
        .get_updates_request(requests[1])
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.kb = kb
    application.bot_data.requests = requests  # closed by run() even when start-up fails

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
    if settings.digest_time is not None:
        assert application.job_queue is not None, "built with a JobQueue above"
        digest.schedule(application.job_queue, settings.digest_time)
    return application


async def post_init(application: BotApplication) -> None:
    """Build the matcher, open the question log, start the purge task, set the command menu."""
    data = application.bot_data
    settings, kb = data.settings, data.kb
    assert kb is not None, "build_application sets the knowledge base"
    data.matcher = Matcher(kb)
    log = await QuestionLog.open(
        settings.database_path,
        secret=load_or_create_secret(settings),
        keep_text=settings.keep_text,
        retention_days=settings.retention_days,
    )
    data.log = log
    data.tasks.append(
        asyncio.get_running_loop().create_task(log.purge_daily(), name="faqbot-daily-purge")
    )
    await set_commands(application, settings)
    _on_signal_send_digest(application)
    logger.info(
        "faqbot ready as @%s: %d items, question log %s",
        application.bot.username,
        len(kb.items),
        settings.database_path,
    )


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
    """Stop the background tasks and close (flush) the question log."""
    if hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR1)
    tasks, application.bot_data.tasks = application.bot_data.tasks, []
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    log = application.bot_data.take_log()
    if log is not None:
        await log.close()
        logger.info("question log flushed and closed")


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
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        if webhook_url:
            application.run_webhook(
                listen=listen,
                port=port,
                url_path=url_path,
                webhook_url=webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                close_loop=False,
            )
        else:
            application.run_polling(allowed_updates=list(ALLOWED_UPDATES), close_loop=False)
    finally:
        # If start-up failed (bad token, no network) PTB never shuts the transport down.
        for request in application.bot_data.requests:
            loop.run_until_complete(request.shutdown())
        loop.close()
        asyncio.set_event_loop(None)
