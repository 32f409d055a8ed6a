"""The leaders' report in Telegram: /rapport on demand and the weekly digest, one way of sending.

The digest is a python-telegram-bot JobQueue job: every Monday at ``FAQBOT_DIGEST_TIME``
(Europe/Copenhagen; ``off`` switches it off) each leader in ``FAQBOT_ADMIN_IDS`` who has a
private chat with the bot gets last week's (Monday to Sunday) report and chart. Which leaders
have one is in the question log by pseudonymous key only; the ids come from the settings.
SIGUSR1 runs the digest now (``kill -USR1 <pid>``: a resend after an outage, and how the
end-to-end test triggers it). With several replicas each schedules the digest, and the first to
claim the week in the database (``faqbot.coordination``) sends it; SIGUSR1 sends it from the
replica it is sent to, claimed or not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Job, JobQueue

from faqbot.bot.context import BotContext
from faqbot.report import (
    LOCAL_TIME,
    Report,
    build_report,
    chart_caption,
    last_full_week,
    report_messages,
)

logger = logging.getLogger(__name__)

JOB_NAME = "weekly-digest"
MONDAY = 1
"""python-telegram-bot's ``run_daily`` counts days from 0 = Sunday."""
DIGEST_DAYS = 7
DIGEST_TITLE = "Ugerapport"
GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot can't initiate")
"""Bot API errors that mean this leader cannot get messages from the bot any more."""


def schedule(job_queue: JobQueue[BotContext], at: time) -> Job[BotContext]:
    """The weekly digest, every Monday at ``at`` Danish time."""
    return job_queue.run_daily(
        scheduled_digest, time=at.replace(tzinfo=LOCAL_TIME), days=(MONDAY,), name=JOB_NAME
    )


def run_now(job_queue: JobQueue[BotContext]) -> Job[BotContext]:
    """The digest once, as soon as the job queue gets to it."""
    return job_queue.run_once(weekly_digest, 0, name=f"{JOB_NAME}-now")


async def report_chart(report: Report) -> bytes:
    """The chart, drawn off the event loop (matplotlib is imported only here)."""
    from faqbot.report import report_png

    return await asyncio.to_thread(report_png, report)


async def send_report(
    bot: Bot, chat_id: int, messages: Sequence[str], chart: bytes | str, caption: str
) -> Message:
    """The report's messages, then its chart; returns the chart's message."""
    for text in messages:
        await bot.send_message(chat_id, text)
    return await bot.send_photo(chat_id, chart, caption=caption)


async def scheduled_digest(context: BotContext) -> None:
    """The Monday job: the digest, if no other replica claimed this week's first."""
    coordination = context.bot_data.coordination
    week = last_full_week(datetime.now(UTC)).date().isoformat()
    if coordination is not None and not await coordination.claim_job(JOB_NAME, week):
        logger.info("weekly digest: another replica sends the one for the week before %s", week)
        return
    await weekly_digest(context)


async def weekly_digest(context: BotContext) -> None:
    """Send last week's report to every leader with a private chat; one failure stops no one."""
    data = context.bot_data
    leaders = await data.log.leaders_with_chat(data.settings.admin_ids)
    if not leaders:
        logger.info("weekly digest: no leader has started a chat with the bot yet")
        return
    built = await build_report(
        data.log,
        days=DIGEST_DAYS,
        now=last_full_week(datetime.now(UTC)),
        kb=data.matcher.kb,
        bounded=False,  # always the whole calendar week, even in the bot's first week
    )
    messages = report_messages(built, title=DIGEST_TITLE)
    chart: bytes | str = await report_chart(built)
    caption = chart_caption(built)
    sent = 0
    for chat_id in leaders:
        try:
            message = await send_report(context.bot, chat_id, messages, chart, caption)
        except (Forbidden, BadRequest) as error:
            if isinstance(error, BadRequest) and not any(g in str(error).lower() for g in GONE):
                logger.warning("weekly digest: a leader's copy was refused: %s", error)
                continue
            data.log.forget_leader_chat(chat_id)
            logger.info("weekly digest: a leader can no longer be reached (%s)", error)
            continue
        except TelegramError as error:
            logger.warning("weekly digest: a leader's copy failed: %s", error)
            continue
        sent += 1
        if message.photo:  # the same chart again is sent by reference, not uploaded again
            chart = message.photo[-1].file_id
    logger.info("weekly digest sent to %d of %d leader(s)", sent, len(leaders))
