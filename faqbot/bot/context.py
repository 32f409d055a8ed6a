"""The bot's shared state, typed: python-telegram-bot's ``ContextTypes`` with a ``BotData`` class
instead of string keys in a dict.

python-telegram-bot creates ``bot_data`` itself, with no arguments, so every field starts unset;
``build_application`` fills in the settings and the knowledge base, ``post_init`` the matcher and
the question log. A handler reads them through the properties, which fail loudly if a resource is
used before it was opened.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue
from telegram.request import BaseRequest

from faqbot.kb import KnowledgeBase
from faqbot.matcher import Matcher
from faqbot.questionlog import QuestionLog
from faqbot.settings import Settings

if TYPE_CHECKING:
    from faqbot.bot.delivery import Delivery
    from faqbot.coordination import Coordination


class BotData:
    """What every handler shares. A reload swaps ``matcher`` in one assignment; a handler reads
    it once per update, so the knowledge base never changes under an answer."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._matcher: Matcher | None = None
        self._log: QuestionLog | None = None
        self.kb: KnowledgeBase | None = None
        """The knowledge base the bot was started with (the matcher holds the current one)."""
        self.requests: tuple[BaseRequest, ...] = ()
        """The Bot API transports, closed by ``app.run`` even when start-up fails."""
        self.tasks: list[asyncio.Task[None]] = []
        """Background tasks started in ``post_init`` and cancelled in ``post_shutdown``."""
        self.delivery: Delivery | None = None
        """The inbox's bot side (``faqbot.bot.delivery``), set by ``build_application``."""
        self.coordination: Coordination | None = None
        """Leases, job runs and reload versions shared with other replicas (``faqbot.bot.
        replicas``), set when the question log is opened."""
        self.knowledge_version = 0
        """The knowledge base version (``/genindlaes`` in any replica bumps it) loaded here."""

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("the bot's settings are not set yet")
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            raise RuntimeError("the matcher is built in post_init")
        return self._matcher

    @matcher.setter
    def matcher(self, value: Matcher) -> None:
        self._matcher = value

    @property
    def log(self) -> QuestionLog:
        if self._log is None:
            raise RuntimeError("the question log is opened in post_init")
        return self._log

    @log.setter
    def log(self, value: QuestionLog) -> None:
        self._log = value

    def take_log(self) -> QuestionLog | None:
        """The open question log, forgotten here (for closing it exactly once)."""
        log, self._log = self._log, None
        return log


BotContext = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
"""The context every handler and job receives."""

BotApplication = Application[
    ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
]

CONTEXT_TYPES: ContextTypes[BotContext, dict[Any, Any], dict[Any, Any], BotData] = ContextTypes(
    bot_data=BotData
)
