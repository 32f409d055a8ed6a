"""The bot's own messages, in Danish, as Telegram HTML.

Answers, citations, the no-match and safety texts come from ``faqbot.render`` (the one
formatting place); this module only holds what the bot says about itself: /start, /hjaelp,
/privatliv, refusals, hints, and the leaders' command replies. Everything interpolated from the
knowledge base or a user is escaped here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from faqbot.bot.commands import BotCommandSpec
from faqbot.kb import KnowledgeBase
from faqbot.settings import KeepText, Settings

MAX_MESSAGE_CHARS = 4096

# --- buttons ---------------------------------------------------------------------------------
BACK_TO_TOPICS = "« Alle emner"
SEE_ALSO = "Se også:"
NONE_OF_THEM = "Ingen af dem"
SHOW_TOPICS = "Se emnerne"

# --- short replies -----------------------------------------------------------------------------
TOPICS_LEAD = "Vælg et emne:"
NOT_ADMIN = (
    "Beklager, den kommando er kun for ledere. Har du brug for tal om spørgsmålene, "
    "så spørg din leder."
)
ADMIN_PRIVATE_ONLY = (
    "Lederkommandoer virker kun i en privat chat med mig, så ingen andre ser svaret."
)
HINT_NOT_TEXT = (
    "Jeg kan kun læse tekst. Skriv dit spørgsmål som en almindelig besked, "
    "fx „Hvad laver en peer-medarbejder?“"
)
HINT_EMPTY = "Skriv dit spørgsmål efter kommandoen, fx: /spoerg Hvad laver en peer-medarbejder?"
HINT_EMPTY_MENTION = "Skriv dit spørgsmål sammen med mit navn, så svarer jeg."
UNKNOWN_COMMAND = "Den kommando kender jeg ikke. Se /hjaelp."
STALE_BUTTON = "Denne knap er forældet – vidensbasen er opdateret. Brug /emner eller spørg igen."
ALREADY_VOTED = "Du har allerede stemt på dette svar. Tak!"
ALREADY_PICKED = "Du har allerede valgt det spørgsmål – svaret står ovenfor."
VOTE_THANKS_UP = "Tak! Godt at svaret kunne bruges."
VOTE_THANKS_DOWN = "Tak! Vi bruger det til at gøre svarene bedre."
ERROR = "Beklager, noget gik galt hos mig. Prøv igen om lidt."
LATE_APOLOGY = (
    "Beklager, jeg var ikke tilgængelig, da du skrev dette. "
    "Stil gerne dit spørgsmål igen, så svarer jeg med det samme."
)
REPORT_DAYS_INVALID = "Skriv antal dage som et helt tal fra 1 til 3650, fx /rapport 30."
UNANSWERED_NONE = "Der er ingen ubesvarede spørgsmål i loggen."
OFF_TOPIC_MARK = " (uden for emnet)"
RELOAD_BUSY = "Jeg genindlæser vidensbasen …"


def start(kb: KnowledgeBase, bot_username: str | None) -> str:
    """What the bot knows, that questions are logged without names, and how to ask."""
    categories = ", ".join(escape(name) for name in kb.categories)
    example = escape(kb.items[0].question) if kb.items else "Hvad laver en peer-medarbejder?"
    mention = f" nævner mig (@{escape(bot_username)})," if bot_username else ""
    return (
        "Hej! Jeg svarer på spørgsmål om <b>peer-medarbejdere</b> i psykiatrien – kolleger, "
        "der er ansat for deres egen erfaring med psykisk sygdom og recovery.\n\n"
        f"Jeg kender {len(kb.items)} spørgsmål med svar fra {len(kb.sources)} vejledninger "
        f"inden for emnerne: {categories}. Jeg skriver altid, hvilken vejledning svaret "
        "kommer fra.\n\n"
        "<b>Sådan spørger du:</b> Skriv dit spørgsmål, som du ville stille det til en kollega, "
        f"fx „{example}“. I en gruppe skriver du /spoerg og dit spørgsmål,{mention} eller "
        "svarer på en af mine beskeder. Med /emner kan du klikke dig rundt i spørgsmålene.\n\n"
        "Dine spørgsmål gemmes <b>uden navn</b>, så lederne kan se, hvad der bliver spurgt om, "
        "og så svarene kan blive bedre. Læs mere med /privatliv.\n\n"
        "Jeg giver ikke behandlingsråd og er ikke en krisetjeneste."
    )


def help_text(commands: Iterable[BotCommandSpec], *, admin: bool) -> str:
    """/hjaelp: how to ask, then the commands from the one table (leaders' ones for leaders)."""
    lines = [
        "<b>Sådan bruger du mig</b>",
        "Skriv et spørgsmål i en privat chat med mig. I en gruppe: /spoerg dit spørgsmål, "
        "nævn mig, eller svar på en af mine beskeder.",
        "",
        "<b>Kommandoer</b>",
    ]
    leader_lines = []
    for spec in commands:
        line = f"/{spec.name} – {escape(spec.description)}"
        if not spec.admin:
            lines.append(line)
        elif admin:
            leader_lines.append(line)
    if leader_lines:
        lines += ["", "<b>Til ledere</b>", *leader_lines]
    lines += ["", "Svarer jeg forkert, så tryk 👎 under svaret, og spørg din leder."]
    return "\n".join(lines)


def privacy(settings: Settings) -> str:
    """/privatliv: what is stored, for how long, and why."""
    days = settings.retention_days
    if settings.keep_text is KeepText.NONE:
        text_clause = "Selve teksten i dine spørgsmål gemmes ikke."
    elif settings.keep_text is KeepText.UNANSWERED:
        text_clause = (
            "Teksten gemmes kun for spørgsmål, jeg ikke kunne svare på, så vidensbasen kan "
            "udvides. Telefonnumre, e-mailadresser, CPR-numre og lignende fjernes, før teksten "
            f"gemmes, og teksten slettes efter {days} dage."
        )
    else:
        text_clause = (
            "Teksten i dine spørgsmål gemmes, så svarene kan forbedres. Telefonnumre, "
            "e-mailadresser, CPR-numre og lignende fjernes, før teksten gemmes, og teksten "
            f"slettes efter {days} dage."
        )
    return (
        "<b>Hvad gemmer jeg?</b>\n"
        "For hvert spørgsmål gemmer jeg, hvilket svar du fik, hvor sikker jeg var, hvornår det "
        "var, og om det var i en privat chat eller en gruppe. Dit navn, brugernavn og "
        "Telegram-id gemmes <b>ikke</b> – kun en pseudonym nøgle, så jeg kan tælle, hvor mange "
        "forskellige der spørger, og så du kun kan stemme én gang pr. svar.\n"
        f"{text_clause}\n"
        "Indtil du har fået svar, ligger din besked, som Telegram sender den (med navn og id), i "
        "en midlertidig kø, så den ikke går tabt, hvis jeg genstarter. Den slettes, så snart "
        "svaret er sendt.\n\n"
        "<b>Hvorfor?</b>\n"
        "Så lederne kan se, hvilke spørgsmål der fylder, og hvilke vidensbasen mangler svar på. "
        "Lederne ser optællinger og anonymiserede spørgsmål – aldrig hvem der spurgte.\n\n"
        "<b>Godt at vide</b>\n"
        "Skriv ikke navne eller andre personoplysninger om borgere eller kolleger i dine "
        "spørgsmål."
    )


def reload_ok(kb: KnowledgeBase) -> str:
    """The reply to a successful /genindlaes."""
    return (
        f"Vidensbasen er genindlæst: {len(kb.items)} spørgsmål i {len(kb.categories)} emner "
        f"fra {len(kb.sources)} kilder."
    )


def reload_failed(problems: Sequence[object]) -> str:
    """The reply to a failed /genindlaes: every problem that fits, escaped; the old one stays."""
    head = (
        f"Vidensbasen har {len(problems)} fejl, så jeg beholder den gamle. "
        "Ret fejlene og prøv igen:\n"
    )
    return head + bounded_lines(
        [str(problem) for problem in problems], MAX_MESSAGE_CHARS - len(head)
    )


def unanswered(questions: Sequence[tuple[str, str]]) -> str:
    """The /ubesvarede listing: (when, redacted text) pairs, newest first."""
    if not questions:
        return UNANSWERED_NONE
    head = "<b>Seneste ubesvarede spørgsmål</b> (anonymiseret)\n"
    lines = [f"• {when}: {text}" for when, text in questions]
    return head + bounded_lines(lines, MAX_MESSAGE_CHARS - len(head))


def _fit(line: str, room: int) -> str:
    """``line`` escaped, cut (with an ellipsis) so the escaped text has at most ``room`` chars."""
    escaped = escape(line)
    if len(escaped) <= room:
        return escaped
    raw = line[: max(0, room - 1)]
    while len(escape(raw)) > room - 1:
        raw = raw[: len(raw) - (len(escape(raw)) - (room - 1))]
    return escape(raw) + "…"


def bounded_lines(lines: Sequence[str], limit: int) -> str:
    """Escape and join lines; end with "… og N mere" rather than exceed ``limit`` characters."""
    reserve = 24  # room for the "… og N mere" line
    out: list[str] = []
    used = 0
    for position, line in enumerate(lines):
        escaped = _fit(line, limit - reserve)
        if used + len(escaped) > limit - reserve:
            out.append(f"… og {len(lines) - position} mere")
            break
        out.append(escaped)
        used += len(escaped) + 1
    return "\n".join(out)
