"""The one table of commands: it feeds ``set_my_commands`` and /hjaelp, so they cannot drift."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from telegram import BotCommand


@dataclass(frozen=True)
class BotCommandSpec:
    """A command, its menu description (Danish) and whether only leaders may use it."""

    name: str
    description: str
    admin: bool = False


COMMANDS: tuple[BotCommandSpec, ...] = (
    BotCommandSpec("start", "Hvad jeg kan, og hvordan du spørger"),
    BotCommandSpec("spoerg", "Stil et spørgsmål (i grupper: /spoerg dit spørgsmål)"),
    BotCommandSpec("emner", "Gå på opdagelse i emner og spørgsmål"),
    BotCommandSpec("kilder", "De vejledninger, svarene bygger på"),
    BotCommandSpec("privatliv", "Hvad jeg gemmer, hvor længe og hvorfor"),
    BotCommandSpec("hjaelp", "Hjælp og kommandoer"),
    BotCommandSpec("rapport", "Ledere: rapport over spørgsmålene, fx /rapport 30", admin=True),
    BotCommandSpec("ubesvarede", "Ledere: de seneste ubesvarede spørgsmål", admin=True),
    BotCommandSpec("genindlaes", "Ledere: genindlæs vidensbasen fra disken", admin=True),
)


def public_commands() -> tuple[BotCommandSpec, ...]:
    """The commands everyone sees in the menu."""
    return tuple(spec for spec in COMMANDS if not spec.admin)


def admin_commands() -> tuple[BotCommandSpec, ...]:
    """The leaders' commands."""
    return tuple(spec for spec in COMMANDS if spec.admin)


def bot_commands(specs: Iterable[BotCommandSpec]) -> list[BotCommand]:
    """The specs as Telegram ``BotCommand``s for ``set_my_commands``."""
    return [BotCommand(spec.name, spec.description) for spec in specs]
