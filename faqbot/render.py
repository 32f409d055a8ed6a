"""The one place that turns results and items into words (Danish), for Telegram and the terminal.

Telegram gets HTML with every piece of knowledge-base text escaped; the terminal gets the same
words as plain text. Citations are always ``kb.citation(ref)``, never re-formatted here.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from faqbot.kb import MAX_MESSAGE_CHARS, Item, KnowledgeBase, SourceRef
from faqbot.matcher import Result, Status
from faqbot.matcher.answerable import Gap

CLARIFY_LEAD = "Mente du et af disse spørgsmål?"
CLARIFY_PICK = "Vælg et nummer, eller stil spørgsmålet på en anden måde."
GUIDES_COVER = (
    "Guiderne handler om at ansætte, introducere, lede og arbejde sammen med "
    "peer-medarbejdere: rolle og opgaver, ansættelse, løn og timer, samarbejde, tavshedspligt, "
    "medicin, sygdom, supervision og recovery."
)
"""What the guides do cover, said whenever the bot cannot answer."""
NO_MATCH_TEXT = (
    "Det kan jeg desværre ikke svare sikkert på. Jeg svarer kun ud fra guiderne om "
    "peer-medarbejdere, og jeg fandt ikke noget, der passer til dit spørgsmål.\n"
    f"{GUIDES_COVER}\n"
    "Prøv at skrive det på en anden måde, se emnerne med /emner, eller spørg din leder."
)
NOT_COVERED_TEXT = (
    "Det kan jeg desværre ikke svare på: {reason}, og jeg svarer kun "
    f"ud fra dem.\n{GUIDES_COVER}\n"
)
"""When the nearest items do not hold what is asked (``Result.not_covered``)."""
TASK_TEXT = (
    "Det kan jeg desværre ikke hjælpe med: {reason}. Jeg svarer på spørgsmål ud fra guiderne om "
    f"peer-medarbejdere.\n{GUIDES_COVER}\n"
)
"""When the question asks the bot to do a task (``Gap.task``)."""
NEAREST_TEXT = "Det nærmeste, guiderne svarer på, er: »{question}« Spørg gerne om det.\n"
"""The nearest item's question, offered as what the guides do hold."""
NOT_COVERED_END = "Spørg din leder eller HR, eller se emnerne med /emner."
TASK_END = "Se emnerne med /emner."
SOURCES_LEAD = "Svarene bygger på disse guider:"
CATEGORIES_LEAD = "Emner (skriv nummeret for at se spørgsmålene):"


def _answer(
    item: Item, kb: KnowledgeBase, esc: Callable[[str], str], quote_fmt: str, room: int = 0
) -> str:
    """The answer and its citation, then the quotation if it fits beside ``room`` characters
    the caller puts first (the safety note). Only an answer near Telegram's limit with the
    note before it can be too long: its end is then cut (never the note or the citation)."""
    citation = esc(kb.citation(item.sources[0]))
    answer = item.answer
    text = f"{esc(answer)}\n\n{citation}"
    while room + len(text) > MAX_MESSAGE_CHARS and answer:
        answer = answer[: len(answer) - (room + len(text) - MAX_MESSAGE_CHARS) - 1].rstrip()
        text = f"{esc(answer)}…\n\n{citation}"
    if item.quote is not None:
        ref = SourceRef(item.quote.source, item.quote.section)
        quote = quote_fmt.format(text=esc(item.quote.text), citation=esc(kb.citation(ref)))
        if room + len(text) + len(quote) <= MAX_MESSAGE_CHARS:
            text += quote
    return text


def answer_html(item: Item, kb: KnowledgeBase) -> str:
    """Escaped answer, a blank line, the escaped citation, then the quotation if it fits."""
    return _answer(item, kb, escape, "\n\n<i>»{text}«</i>\n{citation}")


def answer_plain(item: Item, kb: KnowledgeBase) -> str:
    """The answer with its citation (and quotation) as plain text."""
    return _answer(item, kb, str, "\n\n»{text}«\n{citation}")


def safety_text(result: Result, kb: KnowledgeBase) -> str:
    """The safety text that fits the situation of an acute message (or the general one)."""
    return kb.safety.response_for(result.safety_situation)


def _result(result: Result, kb: KnowledgeBase, esc: Callable[[str], str], html: bool) -> str:
    if result.status is Status.SAFETY:
        return esc(safety_text(result, kb))
    note = f"{esc(kb.safety.note)}\n\n" if result.safety_note else ""
    talk = result.small_talk  # small talk's reply, or the note above another language's suggestions
    if talk is not None and (result.status is Status.SMALLTALK or not result.suggestions):
        return note + esc(talk.reply)
    if result.status is Status.ANSWERED and result.item is not None:
        quote_fmt = "\n\n<i>»{text}«</i>\n{citation}" if html else "\n\n»{text}«\n{citation}"
        answer = _answer(result.item, kb, esc if html else str, quote_fmt, len(note))
        return note + answer
    if result.status is Status.CLARIFY and result.suggestions:
        lines = [CLARIFY_LEAD] if talk is None else [esc(talk.reply), "", CLARIFY_LEAD]
        lines += [
            f"{number}. {esc(suggestion.item.question)}"
            for number, suggestion in enumerate(result.suggestions, start=1)
        ]
        return note + "\n".join(lines)
    if result.not_covered is not None:
        return note + esc(not_covered_text(result.not_covered))
    return note + esc(NO_MATCH_TEXT)


def not_covered_text(gap: Gap) -> str:
    """The whole reply when the guides do not hold what is asked: why (the task, or what they
    lack), what they cover, and the nearest question they do answer when there is one."""
    lead = TASK_TEXT if gap.task is not None else NOT_COVERED_TEXT
    text = lead.format(reason=not_covered(gap))
    if gap.nearest is not None:
        text += NEAREST_TEXT.format(question=gap.nearest)
    return text + (TASK_END if gap.task is not None else NOT_COVERED_END)


def not_covered(gap: Gap) -> str:
    """What the guides lack, as one clause: the reply's reason and ``faqbot ask --json``'s."""
    if gap.task is not None:
        return f"jeg {gap.task}"
    if gap.name is not None:
        return f"guiderne om peer-medarbejdere nævner ikke {gap.name}"
    lacks = f"guiderne om peer-medarbejdere har ikke de {gap.fact}, du spørger om"
    return lacks if gap.asked is None else f"{lacks} («{gap.asked}»)"


def result_html(result: Result, kb: KnowledgeBase) -> str:
    """The text part of the reply to any result, as Telegram HTML: the safety text alone for an
    acute message; the short safety note first when the message touches on danger."""
    return _result(result, kb, escape, html=True)


def result_plain(result: Result, kb: KnowledgeBase) -> str:
    """The reply to any result as plain text (terminal chat, ``faqbot ask``), like
    ``result_html``."""
    return _result(result, kb, str, html=False)


def sources_html(kb: KnowledgeBase) -> str:
    """The /kilder listing: title, publisher and year of every guide, linked where possible."""
    lines = [escape(SOURCES_LEAD)]
    for source in kb.sources:
        title = escape(source.title)
        if source.url:
            title = f'<a href="{escape(source.url, quote=True)}">{title}</a>'
        lines.append(f"• {title} ({escape(source.publisher)}, {escape(source.year)})")
    return "\n".join(lines)


def sources_plain(kb: KnowledgeBase) -> str:
    """The /kilder listing as plain text, with each guide's address on its own line."""
    lines = [SOURCES_LEAD]
    for source in kb.sources:
        lines.append(f"• {source.title} ({source.publisher}, {source.year})")
        if source.url:
            lines.append(f"  {source.url}")
    return "\n".join(lines)


def categories_plain(kb: KnowledgeBase) -> str:
    """The /emner listing for the terminal: numbered categories with their item counts."""
    lines = [CATEGORIES_LEAD]
    for number, category in enumerate(kb.categories, start=1):
        lines.append(f"{number}. {category} ({len(kb.items_in(category))})")
    return "\n".join(lines)


def category_plain(kb: KnowledgeBase, category: str) -> str:
    """One category's questions, numbered, for the terminal."""
    lines = [f"{category}:"]
    for number, item in enumerate(kb.items_in(category), start=1):
        lines.append(f"{number}. {item.question}")
    return "\n".join(lines)
