"""Inline keyboards and their callback data.

Telegram allows 64 bytes of callback data per button, too few for item ids plus a question id,
so a button names an item by its index in ``kb.items`` plus a short checksum of its id. After
a /genindlaes that moves or removes the item the checksum no longer matches and the bot says
the button is out of date instead of answering with the wrong item.

Formats (fields separated by ``|``)::

    t                      the list of categories (/emner)
    c|<index>|<check>      one category's questions
    i|<index>|<check>      an item's answer (browsing, "Se også")
    p|<index>|<check>|<q>  a clarify suggestion picked for logged question <q>
    n|<q>                  "Ingen af dem" for logged question <q>
    v|<q>|1 / v|<q>|0      a 👍 / 👎 vote on the answer to logged question <q>
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from faqbot.bot import texts
from faqbot.kb import Item, KnowledgeBase

MAX_CALLBACK_BYTES = 64
BUTTON_CHARS = 60
"""Longer button labels are cut with an ellipsis; Telegram clients truncate them anyway."""

_QUESTION_ID = re.compile(r"[0-9A-Za-z_-]{1,40}")
_CHECK = re.compile(r"[0-9a-f]{6}")


def check(name: str) -> str:
    """A 6-hex-digit checksum of an item id or category name (CRC-32, truncated)."""
    return f"{zlib.crc32(name.encode('utf-8')):08x}"[:6]


@dataclass(frozen=True)
class Topics:
    """Show the categories."""


@dataclass(frozen=True)
class CategoryRef:
    """Show one category's questions."""

    index: int
    check: str


@dataclass(frozen=True)
class ItemRef:
    """Show one item's answer."""

    index: int
    check: str


@dataclass(frozen=True)
class Pick:
    """A clarify suggestion chosen for a logged question."""

    index: int
    check: str
    question_id: str


@dataclass(frozen=True)
class NoneOfThem:
    """None of the clarify suggestions fitted."""

    question_id: str


@dataclass(frozen=True)
class Vote:
    """A vote on the answer to a logged question."""

    question_id: str
    helpful: bool


Action = Topics | CategoryRef | ItemRef | Pick | NoneOfThem | Vote


def encode(action: Action) -> str:
    """The callback data for an action; always within Telegram's 64 bytes."""
    match action:
        case Topics():
            data = "t"
        case CategoryRef(index, chk):
            data = f"c|{index}|{chk}"
        case ItemRef(index, chk):
            data = f"i|{index}|{chk}"
        case Pick(index, chk, question_id):
            data = f"p|{index}|{chk}|{question_id}"
        case NoneOfThem(question_id):
            data = f"n|{question_id}"
        case Vote(question_id, helpful):
            data = f"v|{question_id}|{int(helpful)}"
        case _:  # pragma: no cover - exhaustive
            raise TypeError(f"not a keyboard action: {action!r}")
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


_INDEX = re.compile(r"[0-9]{1,6}")


def _index(text: str) -> int | None:
    """An item or category index: ASCII digits only ("²" is a digit to ``str.isdigit``)."""
    return int(text) if _INDEX.fullmatch(text) else None


def decode(data: str | None) -> Action | None:
    """The action behind callback data, or None for anything malformed or foreign."""
    if not data:
        return None
    parts = data.split("|")
    kind, fields = parts[0], parts[1:]
    if kind == "t" and not fields:
        return Topics()
    if kind in ("c", "i", "p") and len(fields) == (3 if kind == "p" else 2):
        index = _index(fields[0])
        if index is None or not _CHECK.fullmatch(fields[1]):
            return None
        if kind == "c":
            return CategoryRef(index, fields[1])
        if kind == "i":
            return ItemRef(index, fields[1])
        if not _QUESTION_ID.fullmatch(fields[2]):
            return None
        return Pick(index, fields[1], fields[2])
    if kind == "n" and len(fields) == 1 and _QUESTION_ID.fullmatch(fields[0]):
        return NoneOfThem(fields[0])
    if (
        kind == "v"
        and len(fields) == 2
        and _QUESTION_ID.fullmatch(fields[0])
        and fields[1] in {"0", "1"}
    ):
        return Vote(fields[0], fields[1] == "1")
    return None


# --- resolving against the current knowledge base ------------------------------------------


def item_ref(kb: KnowledgeBase, item: Item) -> ItemRef:
    """The button reference of an item of ``kb``; ``KeyError`` if it is not there."""
    return ItemRef(kb.position(item.id), check(item.id))


def resolve_item(kb: KnowledgeBase, index: int, chk: str) -> Item | None:
    """The item a button names, or None if the knowledge base has changed under it."""
    if 0 <= index < len(kb.items) and check(kb.items[index].id) == chk:
        return kb.items[index]
    return None


def resolve_category(kb: KnowledgeBase, index: int, chk: str) -> str | None:
    """The category a button names, or None if it is gone or moved."""
    categories = kb.categories
    if 0 <= index < len(categories) and check(categories[index]) == chk:
        return categories[index]
    return None


# --- keyboards --------------------------------------------------------------------------------


def label(text: str, limit: int = BUTTON_CHARS) -> str:
    """A button label, cut with an ellipsis when long."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(label(text), callback_data=encode(action))


def topics_keyboard(kb: KnowledgeBase) -> InlineKeyboardMarkup:
    """One button per category."""
    return InlineKeyboardMarkup(
        [
            [_button(name, CategoryRef(index, check(name)))]
            for index, name in enumerate(kb.categories)
        ]
    )


def category_keyboard(kb: KnowledgeBase, category: str) -> InlineKeyboardMarkup:
    """One button per question in the category, and a way back."""
    rows = [[_button(item.question, item_ref(kb, item))] for item in kb.items_in(category)]
    rows.append([_button(texts.BACK_TO_TOPICS, Topics())])
    return InlineKeyboardMarkup(rows)


def vote_row(question_id: str) -> list[InlineKeyboardButton]:
    """The 👍/👎 pair under an answer to a logged question."""
    return [
        InlineKeyboardButton("👍", callback_data=encode(Vote(question_id, True))),
        InlineKeyboardButton("👎", callback_data=encode(Vote(question_id, False))),
    ]


def answer_keyboard(
    kb: KnowledgeBase, item: Item, question_id: str | None
) -> InlineKeyboardMarkup | None:
    """The related items as "Se også" buttons, and the votes when the question was logged."""
    rows: list[list[InlineKeyboardButton]] = []
    for related_id in item.related:
        related = kb.get_item(related_id)
        if related is not None:
            rows.append([_button(f"{texts.SEE_ALSO} {related.question}", item_ref(kb, related))])
    if question_id is not None:
        rows.append(vote_row(question_id))
    return InlineKeyboardMarkup(rows) if rows else None


def clarify_keyboard(
    kb: KnowledgeBase, items: list[Item] | tuple[Item, ...], question_id: str
) -> InlineKeyboardMarkup:
    """One button per suggestion, then "Ingen af dem"."""
    rows = []
    for item in items:
        ref = item_ref(kb, item)
        rows.append([_button(item.question, Pick(ref.index, ref.check, question_id))])
    rows.append([_button(texts.NONE_OF_THEM, NoneOfThem(question_id))])
    return InlineKeyboardMarkup(rows)


def no_match_keyboard() -> InlineKeyboardMarkup:
    """A shortcut to /emner under the honest "I don't know"."""
    return InlineKeyboardMarkup([[_button(texts.SHOW_TOPICS, Topics())]])
