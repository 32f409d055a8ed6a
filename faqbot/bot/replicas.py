"""Several replicas of the bot on one database: one polls, every one answers, jobs run once,
a reload reaches all.

* **Polling**: Telegram lets one client call ``getUpdates`` at a time (a second gets 409
  Conflict). The replica holding the poller lease (``PollerLease``, a row in the database, see
  ``faqbot.coordination``) polls; the others stand by and check every second. The holder renews
  the lease while it polls and never has a ``getUpdates`` in flight past the lease's end as it
  measured it from before its renewal, which is before the end the database recorded; another
  replica takes over only after that end by the database's clock. So two replicas never poll at
  once, and a dead poller is replaced within ``LEASE_SECONDS`` + ``STANDBY_CHECK_SECONDS``.
* **Answering**: every replica claims updates from the shared inbox (``faqbot.bot.delivery``);
  in webhook mode each answers what its load balancer sends it, in polling mode the poller
  answers what it fetched and any replica replays what a dead one left.
* **Jobs**: the daily purge (``daily_purge``, tried every ``PURGE_CHECK``) and the weekly digest
  (``faqbot.bot.digest``) are JobQueue jobs in every replica; each run claims its period (the
  UTC day, the week) in the database first (``Coordination.claim_job``), and only the replica
  that got it does the work.
* **Reloads**: ``/genindlaes`` bumps the ``knowledge`` version; every replica checks it every
  ``RELOAD_CHECK_SECONDS`` and reloads its knowledge base when it changed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faqbot import kb as kb_module
from faqbot.bot.context import BotContext, BotData
from faqbot.coordination import KNOWLEDGE, POLLER, Coordination
from faqbot.matcher import Matcher
from faqbot.questionlog import QuestionLogError

logger = logging.getLogger(__name__)

LEASE_SECONDS = 5.0
"""How long the poller lease holds without renewal."""
RENEW_BELOW = 0.7
"""The poller renews its lease once less than this share of it is left."""
FENCE_SECONDS = 0.75
"""A ``getUpdates`` is given up this long before the lease runs out (as this replica counts)."""
STANDBY_CHECK_SECONDS = 1.0
"""How often a standing-by replica checks whether the lease is free."""
RELOAD_CHECK_SECONDS = 3.0
"""How often every replica checks whether another one reloaded the knowledge base."""
PURGE_JOB_NAME = "faqbot-daily-purge"
PURGE_CHECK_SECONDS = 3600.0
"""How often every replica tries to claim the day's purge: a day's purge is at most this late
when the replica that would have run it was down at midnight."""


class PollerLease:
    """This replica's view of the poller lease: may it call ``getUpdates``, and until when?"""

    def __init__(self, coordination: Coordination, *, seconds: float = LEASE_SECONDS) -> None:
        self.coordination = coordination
        self.seconds = seconds
        self.until = 0.0
        """Loop time until which the lease is this replica's (0: not held)."""
        self.held = False
        self._unreachable = False

    async def hold(self) -> float:
        """Take or renew the lease when due; return the loop time until which this replica may
        have a ``getUpdates`` in flight (0 when another replica holds the lease)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.held and self.until - started > self.seconds * RENEW_BELOW:
            return self.until - FENCE_SECONDS
        try:
            held = await self.coordination.hold(POLLER, self.seconds)
        except Exception as error:  # the database is unreachable: poll on only while the
            # lease lasts (updates could not be stored anyway), then stand by
            if not self._unreachable:
                logger.warning(
                    "cannot renew the poller lease (%s); polling stops when it ends", error
                )
            self._unreachable = True
            if self.until <= loop.time():
                self._lost()
            return max(0.0, self.until - FENCE_SECONDS) if self.held else 0.0
        self._unreachable = False
        if held:
            if not self.held:
                logger.info("this replica polls Telegram now (it holds the poller lease)")
            self.held = True
            self.until = started + self.seconds
            return self.until - FENCE_SECONDS
        if self.held:
            self._lost()
        elif self.until == 0.0:
            holder = await self.coordination.holder(POLLER)
            logger.info("standing by: another replica polls Telegram (%s)", holder or "unknown")
            self.until = -1.0  # logged once
        return 0.0

    def _lost(self) -> None:
        if self.held:
            logger.warning("this replica lost the poller lease; standing by")
        self.held = False
        self.until = -1.0

    async def release(self) -> None:
        """Give the lease up (at shutdown), so a standing-by replica takes over at once."""
        if self.held:
            self.held = False
            self.until = -1.0
            await self.coordination.release(POLLER)


async def daily_purge(context: BotContext) -> None:
    """The JobQueue job: the retention purge, once a day across all replicas. A failure is
    logged and tried again at the next check (a failed purge gives its day's claim back)."""
    data = context.bot_data
    try:
        await data.log.purge_if_due(data.coordination)
    except QuestionLogError:  # the log is closing (shutdown)
        return
    except Exception:
        logger.exception("daily purge failed; trying again in an hour")


async def load_matcher(directory: Path) -> Matcher:
    """Load and validate the knowledge base and build its matcher, off the event loop;
    ``InvalidKnowledgeBase`` when it has problems (the running matcher stays)."""
    new_kb = await asyncio.to_thread(kb_module.load, directory)
    return await asyncio.to_thread(Matcher, new_kb)


async def announce_reload(data: BotData) -> None:
    """After ``/genindlaes`` reloaded this replica: tell the others (a new version)."""
    if data.coordination is not None:
        data.knowledge_version = await data.coordination.bump(KNOWLEDGE)


async def follow_reloads(context: BotContext) -> None:
    """The JobQueue job: reload when another replica announced a reload. An invalid knowledge
    base here keeps the running one (and is not tried again until the next reload)."""
    data = context.bot_data
    coordination = data.coordination
    if coordination is None:
        return
    try:
        version = await coordination.version(KNOWLEDGE)
    except Exception as error:
        logger.warning("cannot check for knowledge base reloads (%s); trying again later", error)
        return
    if version == data.knowledge_version:
        return
    data.knowledge_version = version
    directory = data.settings.knowledge_dir
    try:
        matcher = await load_matcher(directory)
    except kb_module.InvalidKnowledgeBase as error:
        logger.warning(
            "another replica reloaded the knowledge base, but %s has %d problem(s) here; "
            "keeping the running one",
            directory,
            len(error.problems),
        )
        return
    data.matcher = matcher
    logger.info(
        "knowledge base reloaded after a reload on another replica: %d items", len(matcher.kb.items)
    )
