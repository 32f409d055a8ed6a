"""The terminal chat: the same engine and wording as the Telegram bot, for a keyboard.

``ChatSession`` holds the conversation's state (which numbered list the user can pick from) and
turns one typed line into one reply, so it can be tested without a terminal. ``run_chat`` is the
loop around it: readline editing and a prompt when standard input is a terminal, one answer per
input line otherwise (for scripting), and every question logged like the bot does when the
question log can be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO

from faqbot import render
from faqbot.kb import Item, KnowledgeBase
from faqbot.matcher import Matcher, Status
from faqbot.questionlog import QuestionLog

WELCOME = (
    "Hej! Jeg svarer på spørgsmål om peer-medarbejdere ud fra guiderne og viser altid kilden.\n"
    "Skriv dit spørgsmål. /emner viser emnerne, /kilder guiderne, /hjælp hjælpen. "
    "Ctrl-D afslutter."
)
HELP = (
    "Skriv et spørgsmål med dine egne ord, fx »Har peeren tavshedspligt?«.\n"
    "/emner viser emnerne; skriv derefter et nummer for at vælge.\n"
    "/kilder viser de guider, svarene bygger på.\n"
    "Når jeg viser nummererede forslag, kan du skrive nummeret.\n"
    "Ctrl-D (eller /slut) afslutter."
)
UNKNOWN_COMMAND = "Den kommando kender jeg ikke. Skriv /hjælp for at se, hvad jeg kan."
BAD_NUMBER = "Det nummer er ikke på listen. Skriv et af numrene, eller stil et spørgsmål."
GOODBYE = "Tak for nu."
PROMPT = "> "
EXIT_COMMANDS = frozenset({"/slut", "/exit", "/quit"})

QuestionLogger = Callable[..., str]
"""``QuestionLog.log_question`` (keyword arguments) or a stand-in with the same signature."""
PickLogger = Callable[..., None]


@dataclass
class ChatSession:
    """One conversation: one line in, one reply out. Numbers pick from the last list shown."""

    matcher: Matcher
    log_question: QuestionLogger | None = None
    log_pick: PickLogger | None = None
    _choices: list[tuple[str, object]] = field(default_factory=list)
    _question_id: str | None = None

    @property
    def kb(self) -> KnowledgeBase:
        return self.matcher.kb

    def reply(self, line: str) -> str:
        """The reply to one line the user typed (a question, a command or a number)."""
        text = line.strip()
        if not text:
            return ""
        command = text.split()[0].casefold()
        if command.startswith("/"):
            return self._command(command.split("@")[0])
        if text.isdigit() and self._choices:
            return self._pick(int(text))
        return self._question(line)

    def _command(self, command: str) -> str:
        if command in ("/emner", "/emne"):
            self._choices = [("category", name) for name in self.kb.categories]
            self._question_id = None
            return render.categories_plain(self.kb)
        if command == "/kilder":
            return render.sources_plain(self.kb)
        if command in ("/hjælp", "/hjaelp", "/help", "/start"):
            return HELP
        return UNKNOWN_COMMAND

    def _pick(self, number: int) -> str:
        if not 1 <= number <= len(self._choices):
            return BAD_NUMBER
        kind, value = self._choices[number - 1]
        if kind == "category":
            items = self.kb.items_in(str(value))
            self._choices = [("item", item) for item in items]
            self._question_id = None
            return render.category_plain(self.kb, str(value))
        assert isinstance(value, Item)
        if self._question_id is not None and self.log_pick is not None:
            self.log_pick(question_id=self._question_id, item_id=value.id, user_id=None)
        self._choices = [("item", self.kb.item(related)) for related in value.related]
        self._question_id = None
        return self._with_related(render.answer_plain(value, self.kb), value)

    def _with_related(self, text: str, item: Item) -> str:
        """An answer, then its related items as numbered choices ("se også")."""
        if not item.related:
            return text
        lines = [text, "", "Se også:"]
        for number, related in enumerate(item.related, start=1):
            lines.append(f"{number}. {self.kb.item(related).question}")
        return "\n".join(lines)

    def _question(self, question: str) -> str:
        started = time.perf_counter()
        result = self.matcher.match(question)
        latency_ms = (time.perf_counter() - started) * 1000
        self._question_id = None
        if self.log_question is not None:
            self._question_id = self.log_question(
                question=question,
                status=result.status.value,
                item_id=result.item.id if result.item is not None else None,
                score=result.score,
                latency_ms=latency_ms,
                chat_kind="terminal",
                user_id=None,
                off_topic=result.off_topic,
            )
        if result.status is Status.CLARIFY:
            self._choices = [("item", suggestion.item) for suggestion in result.suggestions]
            return f"{render.result_plain(result, self.kb)}\n{render.CLARIFY_PICK}"
        self._question_id = None  # only a clarify suggestion picked counts as a pick
        if result.status is Status.ANSWERED and result.item is not None:
            self._choices = [("item", self.kb.item(related)) for related in result.item.related]
            return self._with_related(render.result_plain(result, self.kb), result.item)
        self._choices = []
        return render.result_plain(result, self.kb)


def _enable_readline() -> None:
    """Line editing and history for ``input()`` where the platform has readline."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - importing it is what turns editing on


async def _read_line(stdin: TextIO, interactive: bool) -> str | None:
    """One line from the user, or None at end of input (Ctrl-D)."""
    if interactive:
        try:
            return await asyncio.to_thread(input, PROMPT)
        except EOFError:
            return None
    line = await asyncio.to_thread(stdin.readline)
    return line if line else None


async def chat_loop(
    session: ChatSession, stdin: TextIO, stdout: TextIO, *, interactive: bool
) -> None:
    """Read lines until end of input, printing one reply per line."""
    if interactive:
        print(WELCOME, file=stdout)
    while True:
        line = await _read_line(stdin, interactive)
        if line is None:
            break
        if line.strip().casefold() in EXIT_COMMANDS:
            break
        reply = session.reply(line)
        if reply:
            print(reply, file=stdout)
            print(file=stdout)
            stdout.flush()
    if interactive:
        print(f"\n{GOODBYE}", file=stdout)


async def run_chat(
    matcher: Matcher,
    *,
    open_log: Callable[[], Awaitable[QuestionLog]] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    interactive: bool | None = None,
) -> None:
    """The terminal chat. ``open_log`` is an async factory for the question log (or None)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if interactive is None:
        interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        _enable_readline()
    log: QuestionLog | None = None
    if open_log is not None:
        try:
            log = await open_log()
        except Exception as error:  # the chat works without its log
            print(f"Advarsel: spørgeloggen kunne ikke åbnes ({error}).", file=sys.stderr)
    session = ChatSession(
        matcher,
        log_question=getattr(log, "log_question", None),
        log_pick=getattr(log, "log_pick", None),
    )
    try:
        await chat_loop(session, stdin, stdout, interactive=interactive)
    finally:
        if log is not None:
            await log.close()
