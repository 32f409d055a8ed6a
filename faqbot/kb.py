"""The knowledge base: its YAML schema, loading into frozen dataclasses, and validation.

This module is the only code that reads the knowledge directory's YAML into a knowledge base
(``faqbot.suggest`` reads an item file only to insert new alternates into it). Every problem it
finds is reported as ``path:line: message`` so a maintainer can jump straight to it; ``load``
raises ``InvalidKnowledgeBase`` carrying all of them, and nothing half-loaded ever escapes. The
general rules hold for every knowledge base and are checked by ``load``; a knowledge base's own
house rules (rules.yaml) only by ``validate`` (see the last section).

Layout of the knowledge directory::

    sources.yaml          the guides (id, title, publisher, year, url, licence)
    items/<category>.yaml the items, one file per category
    synonyms.yaml         groups of equivalent words and spellings
    safety.yaml           the crisis lexicon (danger phrases, cues) and the safety texts
    safety_examples.yaml  optional: labelled acute / not-acute messages the crisis classifier
                          learns from
    out_of_scope.yaml     optional: questions the bot must not answer (negative examples)
    categories.yaml       optional: the categories, each declared once
    rules.yaml            optional: the house rules ``validate`` checks
    smalltalk.yaml        optional: greetings, thanks, questions about the bot, other languages
    calibration.yaml      optional: the matcher's decision numbers fitted on this knowledge base
    eval.yaml             the evaluation set and its floors (read by ``load_eval``)
    dev.yaml              optional: colleagues' questions labelled with the item that answers
                          them: the matcher indexes them as phrasings of that item
                          (``KnowledgeBase.asked``); evaluated leave-one-author-out
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml

from faqbot.text import fold, words

MAX_MESSAGE_CHARS = 4096
"""Telegram's limit for one message; an answer and its citation must fit in it."""

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: the same nodes and line marks, about seven times
faster (the bot's start-up, every reload). A file it refuses is read again with the pure-Python
loader, whose problem texts are the ones maintainers see."""


class KnowledgeBaseError(Exception):
    """Base class for knowledge-base errors."""


class InvalidKnowledgeBase(KnowledgeBaseError):
    """The knowledge base has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem, printed as ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Source:
    """One of the guides the answers come from."""

    id: str
    title: str
    publisher: str
    year: str
    licence: str
    url: str | None = None
    authors: str | None = None


@dataclass(frozen=True)
class SourceRef:
    """A citation: which guide, and the guide's own part, heading or section."""

    source: str
    section: str


@dataclass(frozen=True)
class Quote:
    """A short verbatim quotation with its source."""

    text: str
    source: str
    section: str


@dataclass(frozen=True)
class Item:
    """One question the bot can answer."""

    id: str
    category: str
    question: str
    answer: str
    sources: tuple[SourceRef, ...]
    alternates: tuple[str, ...] = ()
    quote: Quote | None = None
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The canonical question followed by every alternate."""
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class AskedQuestion:
    """A colleague's question from dev.yaml, labelled by a maintainer: ``kind`` "question" (in
    scope: ``expect`` answers it, and so do ``also``), "out_of_scope", or "uncovered" (in scope,
    but no item answers it). An in-scope one teaches the matcher: it is indexed as a phrasing
    of its ``expect`` item."""

    text: str
    kind: str
    author: str | None = None
    expect: str | None = None
    also: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class NameKind:
    """A kind of named thing (answerable.yaml ``names``: places, organisations, IT systems,
    laws): a question that asks about one of them can only be answered by an item that names it."""

    kind: str
    names: tuple[tuple[str, ...], ...]
    """Each name with its other forms, the first as it is shown ("Region Syddanmark")."""
    endings: tuple[str, ...] = ()
    """A longer word ending in one of these names a thing of this kind ("funktionærloven")."""
    within: str = ""
    """A name (of any kind, as shown) that covers each of these: an item that names "Region
    Nordjylland" holds what it says about its municipalities ("Aalborg") too."""


@dataclass(frozen=True)
class FactKind:
    """A kind of fact (answerable.yaml ``facts``): a question that asks for one ("tlf nr",
    "hvad koster") can only be answered by an item whose answer shows one."""

    says: str
    """What it is, in Danish, for the reply ("telefonnumre eller adresser")."""
    asks: tuple[str, ...]
    """Phrases that ask for it."""
    shown_by: tuple[str, ...]
    """Words (``betal*``: any word starting so) or marks (``<år>``) that show it in an answer."""


@dataclass(frozen=True)
class TaskKind:
    """A kind of task the bot does not do (answerable.yaml ``tasks``): a question that asks
    for one is never answered; the reply says so."""

    says: str
    """What the bot does not do, in Danish for the reply ("skriver ikke mails ...")."""
    asks: tuple[str, ...]
    """Phrases that ask for it anywhere ("kan du skrive", "har du en skabelon")."""
    starts: tuple[str, ...] = ()
    """Phrases that ask for it at the start of a sentence or clause only ("skriv en", "lav
    en": elsewhere "for lav en løn" is no request)."""


@dataclass(frozen=True)
class AnswerableRules:
    """answerable.yaml: what a question may ask that an item's answer does not hold."""

    names: tuple[NameKind, ...] = ()
    facts: tuple[FactKind, ...] = ()
    things: tuple[FactKind, ...] = ()
    """Kinds of facts asked about one thing ("hvor mange ECTS-point"): the word after the
    asking phrase names the thing, and an answer shows the fact only in a sentence about it."""
    between: tuple[str, ...] = ()
    """Words passed over between a thing's asking phrase and the thing ("hvor lang er ...")."""
    not_things: tuple[str, ...] = ()
    """Words after the asking phrase that name no thing ("hvor mange skal ..."): not asked."""
    tasks: tuple[TaskKind, ...] = ()
    """Requests for a task the bot does not do ("skriv en mail", "har du en skabelon")."""


SHOWN_MARKS = ("<tal>", "<år>", "<telefonnummer>", "<link>", "<paragraf>", "<dato>", "<navn>")
"""The marks ``shown_by`` may use besides words: any number, a year, a phone number, a web or
mail address, a paragraph sign (§), a date or time (a day and month, a weekday, a clock time),
a name (a capitalised word inside a sentence)."""


SITUATIONS = ("suicide", "self_harm", "medical", "violence")
"""The situations that have their own safety text (anything else gets the general one)."""

ACUTE_KINDS = (
    "situation",
    "violence",
    "self_harm",
    "hopelessness",
    "spelling_language",
    "embedded",
)
"""The kinds of acute safety examples (the kinds of issue 12)."""
CALM_KINDS = (
    "practice",
    "policy",
    "past",
    "figure_of_speech",
    "ordinary",
    "training",
    "incidental",
    "research",
)
"""The kinds of non-acute safety examples."""

DEFAULT_SAFETY_NOTE = (
    "Hvis det handler om en situation lige nu: ring 112. "
    "Ved selvmordstanker: Livslinien 70 201 201."
)
"""The safety note shown before an answer when ``safety.yaml`` has no ``note``."""


@dataclass(frozen=True)
class SafetySituation:
    """One situation (suicide, self-harm, ...): its danger phrases and its own safety text."""

    name: str
    response: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class SafetyExample:
    """One labelled message the crisis classifier learns from (or is measured on)."""

    text: str
    acute: bool
    kind: str
    author: str | None = None
    line: int = 0


@dataclass(frozen=True)
class SafetyRules:
    """What counts as a crisis message, and what the bot says to one (``safety.yaml``, and the
    examples in ``safety_examples.yaml``). The phrase syntax is described in ``safety.yaml``."""

    response: str
    """The general safety text (the situation is unclear, or has no text of its own)."""
    phrases: tuple[str, ...]
    """Danger phrases of no particular situation."""
    policy_phrases: tuple[str, ...] = ()
    """A sentence with one of these reads as a question about rules, practice, training,
    research or a hypothetical case."""
    urgent_phrases: tuple[str, ...] = ()
    """It is happening now (``lige nu``, ``i aften``, ``hjælp``)."""
    note: str = DEFAULT_SAFETY_NOTE
    """The short note shown before a normal answer to a message that touches on danger."""
    situations: tuple[SafetySituation, ...] = ()
    topic_phrases: tuple[str, ...] = ()
    """Words that name the subject (``selvmord``, ``vold``) without saying anything happens."""
    past_phrases: tuple[str, ...] = ()
    """It happened long ago (``for ti år siden``, ``som teenager``)."""
    figurative_phrases: tuple[str, ...] = ()
    """Figures of speech (``dør af grin``): their words are no danger signal."""
    hypothetical_phrases: tuple[str, ...] = ()
    """A case supposed, not told (``hvis``, ``i tilfælde af``): danger after one of these in a
    question is a question about the case."""
    words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Word classes, used as ``<name>`` in phrases: (name, members)."""
    forms: tuple[tuple[str, ...], ...] = ()
    """Groups of word forms that count as one word (``skære``, ``skar``, ``skåret``)."""
    examples: tuple[SafetyExample, ...] = ()
    """Labelled messages for the classifier (``safety_examples.yaml``; may be empty)."""
    ordinary: tuple[str, ...] = ()
    """Ordinary questions (the items' phrasings, ``out_of_scope.yaml``): set by ``load``, the
    classifier learns them as not acute, so it knows how a colleague's everyday question reads."""

    def response_for(self, situation: str | None) -> str:
        """The safety text for a situation, or the general one."""
        for candidate in self.situations:
            if candidate.name == situation:
                return candidate.response
        return self.response


@dataclass(frozen=True)
class SmallTalkKind:
    """One kind of small talk ("hej", "tak", "hvem er du") and the bot's short reply to it."""

    kind: str
    reply: str
    phrases: tuple[str, ...]
    emoji: tuple[str, ...] = ()
    """A message of only these emoji (👋, 👍) counts as this kind too."""


@dataclass(frozen=True)
class ForeignLanguage:
    """How a question in another language is recognised, and the note it gets."""

    note: str
    danish_words: tuple[str, ...]
    """Words that make a message Danish whatever else it holds ("hvad", "og", "er")."""
    foreign_words: tuple[str, ...]
    """Function words of other languages ("the", "what", "ist"); two of them mark a message."""
    foreign_letters: str = ""
    """Letters Danish never uses ("ä", "ł", "ñ"); one of them marks a message."""


@dataclass(frozen=True)
class SmallTalkRules:
    """``smalltalk.yaml``: what counts as small talk, and the note for other languages."""

    kinds: tuple[SmallTalkKind, ...]
    filler: tuple[str, ...] = ()
    """Words small talk may hold besides its phrases ("lige", "bare", "bot")."""
    foreign: ForeignLanguage | None = None


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base. Build it with ``load``."""

    directory: Path
    sources: tuple[Source, ...]
    items: tuple[Item, ...]
    synonyms: tuple[tuple[str, ...], ...]
    safety: SafetyRules
    negatives: tuple[str, ...] = ()
    """Questions outside the knowledge base's subject (out_of_scope.yaml): never answered."""
    subject: tuple[str, ...] = ()
    """Words that say a question is about the subject (subject.yaml: "peer", "brugerbaggrund"):
    a question naming none of them is scored down, unless it is close to an item's phrasing."""
    other_groups: tuple[str, ...] = ()
    """Words that name other staff groups (other_groups.yaml: "sygeplejerske", "psykolog"): a
    question naming one of them and no subject word is out of scope."""
    item_files: Mapping[str, Path] = field(default_factory=dict, compare=False, repr=False)
    """Item id -> the file under items/ it is written in (where suggestions go)."""
    small_talk: SmallTalkRules | None = None
    """Greetings, thanks and questions about the bot (smalltalk.yaml); None without the file."""
    decision: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """The matcher's calibration and thresholds fitted on this knowledge base's tuning sets by
    ``bench/calibrate.py`` (calibration.yaml: ``calibration`` and ``thresholds``, each a mapping
    of names to numbers); empty without the file (the matcher's defaults apply)."""
    answerable: AnswerableRules = field(default_factory=AnswerableRules)
    """Names and kinds of facts the guides hold only where an item says so (answerable.yaml):
    a question asking for one that the best items lack is not answered."""
    asked: tuple[AskedQuestion, ...] = ()
    """Colleagues' labelled questions (dev.yaml): the in-scope ones are indexed as phrasings of
    their ``expect`` item (``indexed_phrasings``), never written into the items' alternates."""

    @cached_property
    def _asked_by_item(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for question in self.asked:
            if question.kind == "question" and question.expect is not None:
                found.setdefault(question.expect, []).append(question.text)
        return {item_id: tuple(texts) for item_id, texts in found.items()}

    def indexed_phrasings(self, item: Item) -> tuple[str, ...]:
        """What the matcher indexes for an item: its own phrasings, then the colleagues'
        questions (dev.yaml) labelled with it."""
        return (*item.phrasings, *self._asked_by_item.get(item.id, ()))

    @cached_property
    def indexed_negatives(self) -> tuple[str, ...]:
        """What the matcher indexes as out of scope: out_of_scope.yaml's examples, then the
        colleagues' questions labelled out of scope in dev.yaml."""
        return (*self.negatives, *(q.text for q in self.asked if q.kind == "out_of_scope"))

    def without_author(self, author: str | None) -> KnowledgeBase:
        """This knowledge base without one author's labelled questions (leave-one-author-out:
        that author's questions are then as new to the matcher as a colleague's)."""
        return replace(self, asked=tuple(q for q in self.asked if q.author != author))

    @cached_property
    def asked_authors(self) -> tuple[str | None, ...]:
        """The authors of the labelled questions, sorted (None for questions without one, last)."""
        authors = {q.author for q in self.asked}
        return (*sorted(a for a in authors if a is not None), *([None] if None in authors else []))

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {item.id: index for index, item in enumerate(self.items)}

    def position(self, item_id: str) -> int:
        """The index in ``items`` of the item with this id; ``KeyError`` if there is none."""
        return self._positions[item_id]

    @cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {source.id: source for source in self.sources}

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` if there is none."""
        return self._items_by_id[item_id]

    def get_item(self, item_id: str) -> Item | None:
        """The item with this id, or None."""
        return self._items_by_id.get(item_id)

    def source(self, source_id: str) -> Source:
        """The guide with this id; ``KeyError`` if there is none."""
        return self._sources_by_id[source_id]

    @cached_property
    def categories(self) -> tuple[str, ...]:
        """Category names in alphabetical (Danish-insensitive) order."""
        return tuple(sorted({item.category for item in self.items}, key=str.casefold))

    def items_in(self, category: str) -> tuple[Item, ...]:
        """The items of one category, in file order."""
        return tuple(item for item in self.items if item.category == category)

    def citation(self, ref: SourceRef) -> str:
        """The one citation line: ``Kilde: <title> (<publisher>, <year>), <section>``."""
        return format_citation(self.source(ref.source), ref.section)


def format_citation(source: Source, section: str) -> str:
    """Format a citation; shared by the validator's length check and every renderer."""
    return f"Kilde: {source.title} ({source.publisher}, {source.year}), {section}"


# --------------------------------------------------------------------------------------------
# Reading YAML with line numbers
# --------------------------------------------------------------------------------------------


@dataclass
class _Map:
    """A YAML mapping with the line of each key."""

    values: dict[str, Any]
    key_lines: dict[str, int]
    line: int


@dataclass
class _Seq:
    """A YAML sequence with the line of each element."""

    values: list[Any]
    lines: list[int]
    line: int


@dataclass
class _Reader:
    """Collects problems while reading the files of one knowledge directory.

    Problems that leave a whole file unread (missing, empty, not YAML, the wrong shape) are
    also kept in ``file_problems``: they are reported first and alone, because everything
    else found meanwhile may only follow from the unread file (ids "unknown" because the file
    that defines them could not be read).
    """

    directory: Path
    problems: list[Problem] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    drafts: list[_ItemDraft] = field(default_factory=list)
    """The complete items with unique ids, with their lines (for the later rules)."""

    def display(self, path: Path) -> str:
        """A path the maintainer can open: relative to the working directory where possible."""
        if not path.is_absolute():
            return str(path)
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.display(path), line, message))

    def file_problem(self, path: Path, line: int, message: str) -> None:
        """A problem that leaves the whole file unread."""
        self.problem(path, line, message)
        self.file_problems.append(self.problems[-1])

    def read(self, path: Path) -> Any:
        """Parse one YAML file into _Map/_Seq/scalars; None (and a problem) if it cannot."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.file_problem(path, 1, "file is missing")
            return None
        except (OSError, UnicodeDecodeError) as error:
            self.file_problem(path, 1, f"cannot read file: {error}")
            return None
        if _FAST_LOADER is not yaml.SafeLoader:
            known, known_files = len(self.problems), len(self.file_problems)
            loader = _FAST_LOADER(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    return self._convert(loader, node, path)
            except yaml.YAMLError:  # reported again, in the usual words, below
                del self.problems[known:], self.file_problems[known_files:]
            finally:
                loader.dispose()
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                self.file_problem(path, 1, "file is empty")
                return None
            return self._convert(loader, node, path)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else 1
            reason = error.problem or error.context or "invalid YAML"
            self.file_problem(path, line, f"invalid YAML: {reason}{_yaml_hint(reason)}")
            return None
        except yaml.YAMLError as error:
            self.file_problem(path, 1, f"invalid YAML: {error}")
            return None
        finally:
            loader.dispose()

    def _convert(self, loader: yaml.SafeLoader, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            result = _Map({}, {}, line)
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    self.problem(path, key_line, f"key {key!r} is not text")
                    continue
                if key in result.values:
                    self.problem(path, key_line, f"duplicate key '{key}'")
                    continue
                result.values[key] = self._convert(loader, value_node, path)
                result.key_lines[key] = key_line
            return result
        if isinstance(node, yaml.SequenceNode):
            return _Seq(
                [self._convert(loader, child, path) for child in node.value],
                [child.start_mark.line + 1 for child in node.value],
                line,
            )
        return loader.construct_object(node, deep=True)


def _clean(text: str) -> str:
    """Collapse whitespace; YAML folded blocks leave trailing newlines."""
    return " ".join(text.split())


def _same_phrase(text: str) -> str:
    """The key under which two list entries count as the same (case and spacing ignored)."""
    return " ".join(text.casefold().split())


_YAML_HINTS = (
    (
        "mapping values are not allowed",
        "a ':' where YAML does not expect one: put the text in quotes, or check the indentation",
    ),
    ("character '\\t'", "indent with spaces, not tabs"),
    ("cannot start any token", "put text that starts with @, ` or % in quotes"),
    ("could not find expected ':'", "check the indentation of this line and the line above"),
    ("expected <block end>", "check the indentation of this line and the line above"),
)


def _yaml_hint(reason: str) -> str:
    """A plain-words hint for PyYAML's commonest complaints ("" when there is none)."""
    for fragment, hint in _YAML_HINTS:
        if fragment in reason:
            return f" ({hint})"
    return ""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (case and æøå spelling ignored), if one is close."""
    folded = {fold(choice.casefold()): choice for choice in choices}
    close = difflib.get_close_matches(fold(word.casefold()), folded, n=1, cutoff=0.6)
    return folded[close[0]] if close else None


LIST_CHOICES_UP_TO = 12
"""An unknown name with no close match gets the list of known ones when there are this few."""


def _unknown(what: str, word: str, choices: Iterable[str]) -> str:
    """``unknown <what> '<word>'`` with a hint: the closest choice, or the short list of all."""
    options = sorted(choices)
    guess = did_you_mean(word, options)
    if guess is not None:
        return f"unknown {what} '{word}' (did you mean '{guess}'?)"
    if options and len(options) <= LIST_CHOICES_UP_TO:
        return f"unknown {what} '{word}' (expected one of: {', '.join(options)})"
    return f"unknown {what} '{word}'"


class _Fields:
    """Typed access to one mapping's fields, reporting missing, empty and ill-typed ones."""

    def __init__(self, reader: _Reader, path: Path, mapping: _Map, what: str) -> None:
        self.reader, self.path, self.mapping, self.what = reader, path, mapping, what

    def line(self, key: str) -> int:
        return self.mapping.key_lines.get(key, self.mapping.line)

    def check_keys(self, required: Iterable[str], optional: Iterable[str]) -> None:
        allowed = set(required) | set(optional)
        for key in self.mapping.values:
            if key not in allowed:
                message = _unknown("key", key, allowed)
                self.reader.problem(self.path, self.line(key), f"{self.what}: {message}")
        for key in required:
            if key not in self.mapping.values:
                self.reader.problem(
                    self.path, self.mapping.line, f"{self.what}: missing required field '{key}'"
                )

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty string (numbers are accepted and turned into text)."""
        if key not in self.mapping.values:
            return None
        value = self.mapping.values[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is None and required:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            elif value is not None:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be text")
            return None
        text = _clean(str(value))
        if not text:
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return None
        return text

    def block(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty text kept as written (line breaks too), without surrounding space."""
        value = self.mapping.values.get(key)
        if key not in self.mapping.values:
            return None
        if value is not None and not isinstance(value, str):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be text")
            return None
        if value is None or not value.strip():
            if required:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return None
        return value.strip()

    def text_list(self, key: str, *, required: bool = False) -> list[tuple[str, int]]:
        """A list of non-empty strings, each with its line."""
        if key not in self.mapping.values:
            return []
        value = self.mapping.values[key]
        if value is None:
            if required:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return []
        if not isinstance(value, _Seq):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be a list")
            return []
        if required and not value.values:
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
        result = []
        for element, line in zip(value.values, value.lines, strict=True):
            if isinstance(element, bool) or not isinstance(element, str | int | float):
                self.reader.problem(
                    self.path, line, f"{self.what}: every entry of '{key}' must be text"
                )
                continue
            text = _clean(str(element))
            if not text:
                self.reader.problem(self.path, line, f"{self.what}: empty entry in '{key}'")
                continue
            result.append((text, line))
        return result

    def mappings(self, key: str) -> list[tuple[_Map, int]]:
        """A non-empty list of mappings, each with its line."""
        value = self.mapping.values.get(key)
        if key not in self.mapping.values:
            return []
        if value is None or (isinstance(value, _Seq) and not value.values):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return []
        if not isinstance(value, _Seq):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be a list")
            return []
        result = []
        for element, line in zip(value.values, value.lines, strict=True):
            if isinstance(element, _Map):
                result.append((element, line))
            else:
                self.reader.problem(
                    self.path, line, f"{self.what}: every entry of '{key}' must be a mapping"
                )
        return result


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------

_SOURCE_KEYS = (("id", "title", "publisher", "year", "licence"), ("url", "authors"))
_ITEM_KEYS = (
    ("id", "category", "question", "answer", "sources"),
    ("alternates", "quote", "related", "tags"),
)
_REF_KEYS = (("source", "section"), ())
_QUOTE_KEYS = (("text", "source", "section"), ())
_PHRASE_LISTS = (
    "policy_phrases",
    "urgent_phrases",
    "topic_phrases",
    "past_phrases",
    "figurative_phrases",
    "hypothetical_phrases",
)
_SAFETY_KEYS = (("response", "phrases"), (*_PHRASE_LISTS, "note", "situations", "words", "forms"))
_SITUATION_KEYS = (("response", "phrases"), ())
_EXAMPLE_KEYS = (("text", "kind"), ("author",))
_ATOM = r"-?[^\W_]+(?:[-'’][^\W_]+)*-?"
PHRASE_WORD = re.compile(rf"^(?:<[a-z0-9_]+>|{_ATOM}(?:\|{_ATOM})*)$")
"""One word of a safety phrase: ``<class>``, or alternatives ``a|b`` each with an optional ``-``
at either end (``selvmord-`` starts with, ``-piller`` ends with, ``-brand-`` contains)."""


@dataclass
class _Located:
    """A value with the place it came from, for cross-file checks."""

    path: Path
    line: int


def _top_level_list(reader: _Reader, path: Path, data: Any, what: str) -> list[tuple[_Map, int]]:
    if data is None:
        return []
    if not isinstance(data, _Seq):
        reader.file_problem(path, 1, f"expected a list of {what} at the top level")
        return []
    result = []
    for element, line in zip(data.values, data.lines, strict=True):
        if isinstance(element, _Map):
            result.append((element, line))
        else:
            reader.problem(path, line, f"every entry must be a mapping describing one {what[:-1]}")
    return result


def _read_sources(reader: _Reader) -> tuple[list[Source], dict[str, _Located]]:
    path = reader.directory / "sources.yaml"
    sources: list[Source] = []
    seen: dict[str, _Located] = {}
    for mapping, _line in _top_level_list(reader, path, reader.read(path), "sources"):
        fields = _Fields(reader, path, mapping, "source")
        source_id = fields.text("id")
        if source_id is not None:
            fields.what = f"source '{source_id}'"
        fields.check_keys(*_SOURCE_KEYS)
        values = {key: fields.text(key) for key in ("title", "publisher", "year", "licence")}
        url = fields.text("url", required=False)
        authors = fields.text("authors", required=False)
        if source_id is None:
            continue
        if source_id in seen:
            first = seen[source_id]
            reader.problem(
                path,
                fields.line("id"),
                f"duplicate source id '{source_id}' (first at {reader.display(first.path)}:"
                f"{first.line})",
            )
            continue
        seen[source_id] = _Located(path, fields.line("id"))
        if all(value is not None for value in values.values()):
            sources.append(Source(id=source_id, url=url, authors=authors, **values))  # type: ignore[arg-type]
    return sources, seen


def _read_ref(
    reader: _Reader,
    path: Path,
    mapping: _Map,
    what: str,
    keys: tuple[tuple[str, ...], tuple[str, ...]],
) -> dict[str, Any] | None:
    fields = _Fields(reader, path, mapping, what)
    fields.check_keys(*keys)
    values = {key: fields.text(key) for key in keys[0]}
    return values if all(value is not None for value in values.values()) else None


@dataclass
class _ItemDraft:
    item: Item
    path: Path
    line: int
    lines: dict[str, int]
    alternate_lines: list[int]
    related_lines: list[int]


def _read_items(reader: _Reader, known_sources: set[str]) -> tuple[list[_ItemDraft], set[str]]:
    """Every complete item, and the ids of all items (complete or not) for reference checks."""
    items_dir = reader.directory / "items"
    files = sorted(items_dir.glob("*.yaml")) if items_dir.is_dir() else []
    if not files:
        reader.problem(items_dir, 1, "no item files (items/*.yaml) found")
    drafts: list[_ItemDraft] = []
    ids: set[str] = set()
    for path in files:
        data = reader.read(path)
        if isinstance(data, _Seq) and not data.values:
            reader.problem(
                path, data.line, "no items in this file; an item file needs at least one"
            )
        for mapping, line in _top_level_list(reader, path, data, "items"):
            draft = _read_item(reader, path, mapping, line, known_sources)
            if draft is not None:
                drafts.append(draft)
            item_id = mapping.values.get("id")
            if isinstance(item_id, str):
                ids.add(item_id.strip())
    return drafts, ids


def _read_item(
    reader: _Reader, path: Path, mapping: _Map, line: int, known_sources: set[str]
) -> _ItemDraft | None:
    fields = _Fields(reader, path, mapping, "item")
    item_id = fields.text("id")
    if item_id is not None:
        fields.what = f"item '{item_id}'"
        if not ID_PATTERN.match(item_id):
            reader.problem(
                path,
                fields.line("id"),
                f"{fields.what}: id must be lowercase letters, digits and single hyphens",
            )
    fields.check_keys(*_ITEM_KEYS)
    category, question, answer = (fields.text(key) for key in ("category", "question", "answer"))
    alternates = fields.text_list("alternates")
    related = fields.text_list("related")
    tags = fields.text_list("tags")
    refs: list[SourceRef] = []
    for ref_mapping, ref_line in fields.mappings("sources"):
        values = _read_ref(reader, path, ref_mapping, f"{fields.what} source", _REF_KEYS)
        if values is not None:
            refs.append(SourceRef(**values))
            if values["source"] not in known_sources:
                message = _unknown("source id", values["source"], known_sources)
                reader.problem(path, ref_line, f"{fields.what}: {message}")
    quote = None
    quote_line = fields.line("quote")
    if "quote" in mapping.values:
        value = mapping.values["quote"]
        if isinstance(value, _Map):
            values = _read_ref(reader, path, value, f"{fields.what} quote", _QUOTE_KEYS)
            quote = Quote(**values) if values is not None else None
            if quote is not None and quote.source not in known_sources:
                message = _unknown("source id", quote.source, known_sources)
                reader.problem(path, quote_line, f"{fields.what}: quote has {message}")
        else:
            reader.problem(path, quote_line, f"{fields.what}: 'quote' must be a mapping")
    if None in (item_id, category, question, answer) or not refs:
        return None
    item = Item(
        id=item_id,  # type: ignore[arg-type]
        category=category,  # type: ignore[arg-type]
        question=question,  # type: ignore[arg-type]
        answer=answer,  # type: ignore[arg-type]
        sources=tuple(refs),
        alternates=tuple(text for text, _ in alternates),
        quote=quote,
        related=tuple(text for text, _ in related),
        tags=tuple(text for text, _ in tags),
    )
    return _ItemDraft(
        item,
        path,
        line,
        {key: fields.line(key) for key in mapping.values},
        [line for _, line in alternates],
        [line for _, line in related],
    )


def _check_items(
    reader: _Reader,
    drafts: list[_ItemDraft],
    sources: Mapping[str, Source],
    all_ids: set[str],
) -> list[Item]:
    """Cross-item checks: unique ids, known related ids, unique phrasings, message length."""
    first_by_id: dict[str, _ItemDraft] = {}
    unique: list[_ItemDraft] = []
    for draft in drafts:
        item_id = draft.item.id
        if item_id in first_by_id:
            first = first_by_id[item_id]
            reader.problem(
                draft.path,
                draft.lines.get("id", draft.line),
                f"duplicate item id '{item_id}' (first at {reader.display(first.path)}:"
                f"{first.lines.get('id', first.line)})",
            )
            continue
        first_by_id[item_id] = draft
        unique.append(draft)

    for draft in unique:
        item = draft.item
        what = f"item '{item.id}'"
        for related, line in zip(item.related, draft.related_lines, strict=True):
            if related == item.id:
                reader.problem(draft.path, line, f"{what}: related lists the item itself")
            elif related not in all_ids:
                message = _unknown("related item id", related, all_ids - {item.id})
                reader.problem(draft.path, line, f"{what}: {message}")
        first_ref = item.sources[0]
        if first_ref.source in sources:
            citation = format_citation(sources[first_ref.source], first_ref.section)
            length = len(item.answer) + 2 + len(citation)
            if length > MAX_MESSAGE_CHARS:
                reader.problem(
                    draft.path,
                    draft.lines.get("answer", draft.line),
                    f"{what}: answer with its citation is {length} characters, more than "
                    f"the {MAX_MESSAGE_CHARS} that fit in one Telegram message",
                )
    _check_phrasings(reader, unique)
    reader.drafts = unique
    return [draft.item for draft in unique]


@dataclass(frozen=True)
class _Phrasing:
    """One phrasing of an item with the place it was written."""

    item_id: str
    text: str
    path: Path
    line: int


def _phrasings(drafts: Iterable[_ItemDraft]) -> Iterator[_Phrasing]:
    for draft in drafts:
        item = draft.item
        yield _Phrasing(item.id, item.question, draft.path, draft.lines.get("question", draft.line))
        for text, line in zip(item.alternates, draft.alternate_lines, strict=True):
            yield _Phrasing(item.id, text, draft.path, line)


def phrasing_key(text: str) -> str:
    """The key under which two phrasings count as the same: the normaliser's folded words run
    together, so case, punctuation, spaces and hyphens in compounds ("peer medarbejder",
    "peer-medarbejder") and æ/ae/a, ø/oe/o, å/aa/a spellings are ignored."""
    return "".join(words(text))


def _check_phrasings(reader: _Reader, drafts: Iterable[_ItemDraft]) -> None:
    """Every phrasing has words, and no two phrasings are the same after normalisation (the
    matcher could not tell them apart: two items would claim one question)."""
    first: dict[str, _Phrasing] = {}
    for phrasing in _phrasings(drafts):
        what = f"item '{phrasing.item_id}'"
        key = phrasing_key(phrasing.text)
        if not key:
            reader.problem(
                phrasing.path,
                phrasing.line,
                f"{what}: phrasing '{phrasing.text}' has no words to match on",
            )
            continue
        earlier = first.setdefault(key, phrasing)
        if earlier is phrasing:
            continue
        same = "" if earlier.text == phrasing.text else f" as '{earlier.text}'"
        if earlier.item_id != phrasing.item_id:
            message = (
                f"phrasing '{phrasing.text}' is already used by item '{earlier.item_id}'{same} "
                f"({reader.display(earlier.path)}:{earlier.line})"
            )
        elif same:
            message = (
                f"phrasing '{phrasing.text}' is the same as '{earlier.text}' at line "
                f"{earlier.line} (case, punctuation, spacing and æ/ae/a spellings are ignored)"
            )
        else:
            message = f"phrasing '{phrasing.text}' is repeated (first at line {earlier.line})"
        reader.problem(phrasing.path, phrasing.line, f"{what}: {message}")


_Top = TypeVar("_Top", _Map, _Seq)


def _optional(
    reader: _Reader, name: str, kind: type[_Top], expected: str
) -> tuple[Path, _Top | None]:
    """An optional file whose top level is a ``kind`` (a list or a mapping): None when it is
    absent or empty, None and a problem (``expected``) when it is something else."""
    path = reader.directory / name
    if not path.exists():
        return path, None
    data = reader.read(path)
    if data is not None and not isinstance(data, kind):
        reader.file_problem(path, 1, expected)
        return path, None
    return path, data


def _read_synonyms(reader: _Reader) -> list[tuple[str, ...]]:
    path, data = _optional(
        reader, "synonyms.yaml", _Seq, "expected a list of synonym groups (lists of words)"
    )
    if data is None:
        return []
    groups: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for group, line in zip(data.values, data.lines, strict=True):
        if not isinstance(group, _Seq) or len(group.values) < 2:
            reader.problem(path, line, "a synonym group must be a list of at least two words")
            continue
        words = []
        for word, word_line in zip(group.values, group.lines, strict=True):
            if isinstance(word, bool) or not isinstance(word, str | int) or not str(word).strip():
                reader.problem(path, word_line, "every synonym must be non-empty text")
                continue
            text = _clean(str(word))
            key = _same_phrase(text)
            if key in owner:
                reader.problem(
                    path,
                    word_line,
                    f"'{text}' is already in the synonym group at line {owner[key]}",
                )
                continue
            owner[key] = line
            words.append(text)
        if len(words) >= 2:
            groups.append(tuple(words))
    return groups


def _phrase_list(
    fields: _Fields, key: str, classes: set[str], *, required: bool = False
) -> tuple[str, ...]:
    """A list of safety phrases, each checked against the phrase syntax and the word classes."""
    phrases = []
    for text, line in fields.text_list(key, required=required):
        for word in text.split():
            if not PHRASE_WORD.match(word):
                fields.reader.problem(
                    fields.path, line, f"{fields.what}: '{word}' in '{text}' is not a phrase word"
                )
            elif word.startswith("<") and word[1:-1] not in classes:
                fields.reader.problem(
                    fields.path, line, f"{fields.what}: unknown word class '{word}' in '{text}'"
                )
        phrases.append(text.casefold())
    return tuple(phrases)


def _read_words(fields: _Fields) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``words`` mapping: class name -> single phrase words (no classes inside classes)."""
    value = fields.mapping.values.get("words")
    if value is None:
        return ()
    if not isinstance(value, _Map):
        line = fields.line("words")
        fields.reader.problem(fields.path, line, "safety: 'words' must be a mapping")
        return ()
    classes = []
    for name in value.values:
        member_fields = _Fields(fields.reader, fields.path, value, f"safety word class '{name}'")
        if not re.match(r"^[a-z0-9_]+$", name):
            fields.reader.problem(
                fields.path,
                value.key_lines[name],
                f"safety: word class name '{name}' must be lowercase letters, digits and _",
            )
        members = []
        for text, line in member_fields.text_list(name, required=True):
            if " " in text or text.startswith("<") or not PHRASE_WORD.match(text):
                fields.reader.problem(
                    fields.path, line, f"{member_fields.what}: '{text}' is not one phrase word"
                )
            members.append(text.casefold())
        classes.append((name, tuple(members)))
    return tuple(classes)


def _read_forms(fields: _Fields) -> tuple[tuple[str, ...], ...]:
    """The ``forms`` list: groups of plain words that count as one word."""
    value = fields.mapping.values.get("forms")
    if value is None:
        return ()
    if not isinstance(value, _Seq):
        fields.reader.problem(fields.path, fields.line("forms"), "safety: 'forms' must be a list")
        return ()
    groups: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for group, line in zip(value.values, value.lines, strict=True):
        if not isinstance(group, _Seq) or len(group.values) < 2:
            fields.reader.problem(fields.path, line, "safety: a form group is a list of 2+ words")
            continue
        words = []
        for word, word_line in zip(group.values, group.lines, strict=True):
            text = _clean(str(word)).casefold() if isinstance(word, str | int) else ""
            if not re.match(r"^[^\W_]+$", text):
                fields.reader.problem(
                    fields.path, word_line, f"safety: form '{word}' must be one plain word"
                )
                continue
            if text in owner:
                fields.reader.problem(
                    fields.path,
                    word_line,
                    f"safety: form '{text}' is already in the group at line {owner[text]}",
                )
                continue
            owner[text] = line
            words.append(text)
        if len(words) >= 2:
            groups.append(tuple(words))
    return tuple(groups)


def _read_situations(fields: _Fields, classes: set[str]) -> tuple[SafetySituation, ...]:
    value = fields.mapping.values.get("situations")
    if value is None:
        return ()
    if not isinstance(value, _Map):
        fields.reader.problem(
            fields.path, fields.line("situations"), "safety: 'situations' must be a mapping"
        )
        return ()
    situations = []
    for name, mapping in value.values.items():
        line = value.key_lines[name]
        if name not in SITUATIONS:
            fields.reader.problem(
                fields.path,
                line,
                f"safety: unknown situation '{name}' (known: {', '.join(SITUATIONS)})",
            )
            continue
        if not isinstance(mapping, _Map):
            fields.reader.problem(
                fields.path, line, f"safety: situation '{name}' must be a mapping"
            )
            continue
        situation = _Fields(fields.reader, fields.path, mapping, f"safety situation '{name}'")
        situation.check_keys(*_SITUATION_KEYS)
        response = situation.block("response")
        phrases = _phrase_list(situation, "phrases", classes, required=True)
        if response is not None and phrases:
            situations.append(SafetySituation(name, response, phrases))
    return tuple(situations)


def _read_safety(reader: _Reader) -> SafetyRules | None:
    path = reader.directory / "safety.yaml"
    data = reader.read(path)
    if data is None:
        return None
    if not isinstance(data, _Map):
        reader.file_problem(path, 1, "expected a mapping with 'response' and 'phrases'")
        return None
    fields = _Fields(reader, path, data, "safety")
    fields.check_keys(*_SAFETY_KEYS)
    words = _read_words(fields)
    classes = {name for name, _ in words}
    response = fields.block("response")
    note = fields.block("note", required=False)
    phrases = _phrase_list(fields, "phrases", classes, required=True)
    lists = {key: _phrase_list(fields, key, classes) for key in _PHRASE_LISTS}
    situations = _read_situations(fields, classes)
    forms = _read_forms(fields)
    examples = _read_examples(reader, reader.directory / EXAMPLES_FILE, optional=True)
    if response is None or not phrases:
        return None
    return SafetyRules(
        response=response,
        phrases=phrases,
        note=note or DEFAULT_SAFETY_NOTE,
        situations=situations,
        words=words,
        forms=forms,
        examples=examples,
        **lists,
    )


EXAMPLES_FILE = "safety_examples.yaml"
"""Labelled crisis examples beside ``safety.yaml`` (optional)."""
EXAMPLE_LABELS = {"acute": ACUTE_KINDS, "not_acute": CALM_KINDS}


def example_key(text: str) -> str:
    """Two example texts count as the same when their words are (case, æ/ae/a, punctuation and
    emoji ignored)."""
    folded = " ".join(re.findall(r"[^\W_]+", text.casefold()))
    for old, new in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        folded = folded.replace(old, new)
    return folded


def _read_examples(reader: _Reader, path: Path, *, optional: bool) -> tuple[SafetyExample, ...]:
    """Labelled examples: ``acute`` and ``not_acute`` lists of {text, kind, author}."""
    if optional and not path.exists():
        return ()
    data = reader.read(path)
    if data is None:
        return ()
    if not isinstance(data, _Map):
        reader.problem(path, 1, "expected a mapping with the lists 'acute' and 'not_acute'")
        return ()
    fields = _Fields(reader, path, data, "safety examples")
    fields.check_keys(tuple(EXAMPLE_LABELS), ())
    examples = []
    seen: dict[str, tuple[str, int]] = {}
    for label, kinds in EXAMPLE_LABELS.items():
        for mapping, line in fields.mappings(label):
            entry = _Fields(reader, path, mapping, f"{label} example")
            entry.check_keys(*_EXAMPLE_KEYS)
            text, kind = entry.block("text"), entry.text("kind")
            author = entry.text("author", required=False)
            if kind is not None and kind not in kinds:
                other = next((name for name, ks in EXAMPLE_LABELS.items() if kind in ks), None)
                hint = f" (a kind of '{other}' examples)" if other else ""
                reader.problem(
                    path,
                    entry.line("kind"),
                    f"{label} example: unknown kind '{kind}'{hint}; known: {', '.join(kinds)}",
                )
                continue
            if text is None or kind is None:
                continue
            key = example_key(text)
            if not key:
                reader.problem(path, entry.line("text"), f"{label} example: 'text' has no words")
                continue
            if key in seen:
                first_label, first_line = seen[key]
                also = "" if first_label == label else f" as '{first_label}'"
                reader.problem(
                    path,
                    entry.line("text"),
                    f"{label} example: '{text}' is already listed{also} at line {first_line}",
                )
                continue
            seen[key] = (label, entry.line("text"))
            examples.append(SafetyExample(text, label == "acute", kind, author, line))
    return tuple(examples)


def load_safety_examples(path: Path) -> tuple[SafetyExample, ...]:
    """A file of labelled safety examples (the training file or a held-out set); raise
    ``InvalidKnowledgeBase`` on any problem."""
    reader = _Reader(path.parent)
    examples = _read_examples(reader, path, optional=False)
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return examples


def _read_texts(reader: _Reader, name: str, expected: str, each: str) -> list[str]:
    """An optional file holding a list of distinct, non-empty texts."""
    path, data = _optional(reader, name, _Seq, expected)
    if data is None:
        return []
    texts: list[str] = []
    seen: dict[str, int] = {}
    for value, line in zip(data.values, data.lines, strict=True):
        if not isinstance(value, str) or not value.strip():
            reader.problem(path, line, f"every {each} must be non-empty text")
            continue
        text = _clean(value)
        key = _same_phrase(text)
        if key in seen:
            reader.problem(path, line, f"'{text}' is already listed at line {seen[key]}")
            continue
        seen[key] = line
        texts.append(text)
    return texts


_SMALL_TALK_KEYS = (("kinds",), ("filler", "foreign"))
_SMALL_TALK_KIND_KEYS = (("kind", "reply", "phrases"), ("emoji",))
_FOREIGN_KEYS = (("note", "danish_words", "foreign_words"), ("foreign_letters",))


DECISION_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "calibration": (
        (
            "intercept",
            "score",
            "margin",
            "negative",
            "on_topic",
            "phrasing_lead",
            "bayes_lead",
            "surface_lead",
            "agreement",
            "coverage",
        ),
        (),
    ),
    "thresholds": ((), ("answer", "tie", "clarify", "suggest_window", "reject", "reject_clarify")),
    "out_of_scope": (
        ("intercept", "off_topic", "negative_gap", "unknown", "coverage", "word_odds"),
        ("margin",),
    ),
}
"""calibration.yaml's sections: (required, optional) names, as the matcher's ``Calibration``,
``Thresholds`` and ``OutOfScopeModel`` fields (a test keeps them equal)."""


def _read_decision(reader: _Reader) -> dict[str, dict[str, float]]:
    """``calibration.yaml`` if it exists: sections of names with numbers."""
    path, data = _optional(
        reader, "calibration.yaml", _Map, "expected a mapping with 'calibration' and 'thresholds'"
    )
    if data is None:
        return {}
    _Fields(reader, path, data, "calibration").check_keys((), DECISION_KEYS)
    decision: dict[str, dict[str, float]] = {}
    for section, (required, optional) in DECISION_KEYS.items():
        mapping = data.values.get(section)
        if section not in data.values:
            continue
        if not isinstance(mapping, _Map):
            reader.problem(path, data.key_lines[section], f"'{section}' must be a mapping")
            continue
        _Fields(reader, path, mapping, section).check_keys(required, optional)
        numbers = {}
        for name, value in mapping.values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                reader.problem(
                    path, mapping.key_lines[name], f"{section}: '{name}' must be a number"
                )
            elif name in (*required, *optional):
                numbers[name] = float(value)
        decision[section] = numbers
    return decision


_ANSWERABLE_KEYS = ((), ("names", "facts", "things", "between", "not_things", "tasks"))
_NAME_KIND_KEYS = (("kind", "names"), ("endings", "within"))
_FACT_KIND_KEYS = (("says", "asks", "shown_by"), ())
_TASK_KIND_KEYS = (("says",), ("asks", "starts"))


def _read_answerable(reader: _Reader) -> AnswerableRules:
    """``answerable.yaml`` if it exists: kinds of names (each name's forms separated by " / ")
    and kinds of facts with the phrases that ask for them and what shows them in an answer."""
    path, data = _optional(
        reader, "answerable.yaml", _Map, "expected a mapping with 'names' and 'facts'"
    )
    if data is None:
        return AnswerableRules()
    top = _Fields(reader, path, data, "answerable")
    top.check_keys(*_ANSWERABLE_KEYS)
    names = []
    withins: list[tuple[str, int]] = []
    for mapping, _line in top.mappings("names"):
        fields = _Fields(reader, path, mapping, "answerable name kind")
        fields.check_keys(*_NAME_KIND_KEYS)
        forms = tuple(
            tuple(form.strip() for form in text.split(" / ") if form.strip())
            for text, _ in fields.text_list("names", required=True)
        )
        endings = tuple(text.casefold() for text, _ in fields.text_list("endings"))
        within = fields.text("within") or ""
        if within:
            withins.append((within, fields.line("within")))
        names.append(NameKind(fields.text("kind") or "", forms, endings, within))
    first_forms = {forms[0] for kind in names for forms in kind.names if forms}
    for within, line in withins:
        if within not in first_forms:
            hint = did_you_mean(within, first_forms)
            more = f" (did you mean '{hint}'?)" if hint else ""
            message = f"answerable: 'within' is '{within}', which is no name's first form{more}"
            reader.problem(path, line, message)
    facts = _read_fact_kinds(reader, path, top, "facts")
    things = _read_fact_kinds(reader, path, top, "things")
    tasks = []
    for mapping, _line in top.mappings("tasks"):
        fields = _Fields(reader, path, mapping, "answerable task")
        fields.check_keys(*_TASK_KIND_KEYS)
        asks = tuple(text.casefold() for text, _ in fields.text_list("asks"))
        starts = tuple(text.casefold() for text, _ in fields.text_list("starts"))
        if not asks and not starts:
            reader.problem(path, fields.line("says"), "answerable task: no 'asks' nor 'starts'")
        tasks.append(TaskKind(fields.text("says") or "", asks, starts))
    between = tuple(text.casefold() for text, _ in top.text_list("between"))
    not_things = tuple(text.casefold() for text, _ in top.text_list("not_things"))
    return AnswerableRules(tuple(names), facts, things, between, not_things, tuple(tasks))


def _read_fact_kinds(reader: _Reader, path: Path, top: _Fields, key: str) -> tuple[FactKind, ...]:
    """answerable.yaml's ``facts`` or ``things``: kinds of facts with the phrases that ask for
    them and the words or marks that show them in an answer."""
    facts = []
    for mapping, _line in top.mappings(key):
        fields = _Fields(reader, path, mapping, "answerable fact kind")
        fields.check_keys(*_FACT_KIND_KEYS)
        shown = []
        for text, line in fields.text_list("shown_by", required=True):
            if text.startswith("<") and text not in SHOWN_MARKS:
                known = ", ".join(SHOWN_MARKS)
                reader.problem(path, line, f"answerable: unknown mark '{text}' (known: {known})")
            shown.append(text.casefold())
        asks = tuple(text.casefold() for text, _ in fields.text_list("asks", required=True))
        facts.append(FactKind(fields.text("says") or "", asks, tuple(shown)))
    return tuple(facts)


def _read_small_talk(reader: _Reader) -> SmallTalkRules | None:
    """``smalltalk.yaml`` if it exists: kinds with unique names and phrases, filler, foreign."""
    path, data = _optional(
        reader, "smalltalk.yaml", _Map, "expected a mapping with 'kinds' (and 'filler', 'foreign')"
    )
    if data is None:
        return None
    fields = _Fields(reader, path, data, "smalltalk")
    fields.check_keys(*_SMALL_TALK_KEYS)
    kinds: list[SmallTalkKind] = []
    names: dict[str, int] = {}
    owners: dict[str, tuple[str, int]] = {}
    for mapping, line in fields.mappings("kinds"):
        entry = _Fields(reader, path, mapping, "small-talk kind")
        name = entry.text("kind")
        if name is not None:
            entry.what = f"small-talk kind '{name}'"
            if name in names:
                reader.problem(
                    path, line, f"small-talk kind '{name}' is already at line {names[name]}"
                )
                continue
            names[name] = line
        entry.check_keys(*_SMALL_TALK_KIND_KEYS)
        reply = entry.text("reply")
        if reply is not None and len(reply) > MAX_MESSAGE_CHARS:
            reader.problem(
                path,
                entry.line("reply"),
                f"{entry.what}: 'reply' is longer than one Telegram message",
            )
        phrases = entry.text_list("phrases", required=True)
        for phrase, phrase_line in phrases:
            key = _same_phrase(phrase)
            owner = owners.get(key)
            if owner is not None:
                reader.problem(
                    path,
                    phrase_line,
                    f"'{phrase}' is already a phrase of '{owner[0]}' (line {owner[1]})",
                )
            else:
                owners[key] = (name or "?", phrase_line)
        emoji = entry.text_list("emoji")
        if name is not None and reply is not None and phrases:
            kinds.append(
                SmallTalkKind(name, reply, tuple(p for p, _ in phrases), tuple(e for e, _ in emoji))
            )
    filler = [word for word, _ in fields.text_list("filler")]
    foreign = None
    if "foreign" in data.values:
        value = data.values["foreign"]
        if isinstance(value, _Map):
            entry = _Fields(reader, path, value, "smalltalk foreign")
            entry.check_keys(*_FOREIGN_KEYS)
            note = entry.text("note")
            danish = entry.text_list("danish_words", required=True)
            other = entry.text_list("foreign_words", required=True)
            both = {_same_phrase(w) for w, _ in danish} & {_same_phrase(w) for w, _ in other}
            for word in sorted(both):
                reader.problem(
                    path,
                    entry.line("foreign_words"),
                    f"'{word}' is both a Danish and a foreign word",
                )
            letters = entry.text("foreign_letters", required=False) or ""
            if note is not None and danish and other:
                foreign = ForeignLanguage(
                    note,
                    tuple(w for w, _ in danish),
                    tuple(w for w, _ in other),
                    letters.replace(" ", ""),
                )
        else:
            reader.problem(path, fields.line("foreign"), "smalltalk: 'foreign' must be a mapping")
    return SmallTalkRules(tuple(kinds), tuple(filler), foreign)


def load_small_talk(directory: Path) -> SmallTalkRules | None:
    """Only ``smalltalk.yaml`` of a knowledge directory (None without it); raise
    ``InvalidKnowledgeBase`` on any problem in it."""
    reader = _Reader(Path(directory))
    rules = _read_small_talk(reader)
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return rules


OPTIONAL_TEXT_FILES = {
    "negatives": (
        "out_of_scope.yaml",
        "expected a list of out-of-scope questions at the top level",
        "out-of-scope question",
    ),
    "subject": (
        "subject.yaml",
        "expected a list of the words that name the knowledge base's subject",
        "subject word",
    ),
    "other_groups": (
        "other_groups.yaml",
        "expected a list of the words that name other staff groups",
        "staff group",
    ),
}
"""KnowledgeBase field -> (file, the message when it is not a list, what one entry is)."""


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))


def _collect(
    directory: Path, reader: _Reader | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    reader = reader or _Reader(Path(directory))
    if not reader.directory.is_dir():
        reader.problem(reader.directory, 1, "knowledge directory does not exist")
        return None, reader.problems
    sources, known_sources = _read_sources(reader)
    by_id = {source.id: source for source in sources}
    drafts, all_ids = _read_items(reader, set(known_sources))
    items = _check_items(reader, drafts, by_id, all_ids)
    _check_categories(reader, reader.drafts)
    synonyms = _read_synonyms(reader)
    safety = _read_safety(reader)
    small_talk = _read_small_talk(reader)
    decision = _read_decision(reader)
    answerable = _read_answerable(reader)
    asked = _read_asked(reader, {item.id for item in items})
    texts = {
        field: tuple(_read_texts(reader, *spec)) for field, spec in OPTIONAL_TEXT_FILES.items()
    }
    if reader.file_problems:  # alone: the rest may only follow from the unread files
        return None, _sorted(reader.file_problems)
    if reader.problems or safety is None:
        return None, _sorted(reader.problems)
    ordinary = (*(p for item in items for p in item.phrasings), *texts.get("negatives", ()))
    kb = KnowledgeBase(
        directory=reader.directory,
        sources=tuple(sources),
        items=tuple(items),
        synonyms=tuple(synonyms),
        safety=replace(safety, ordinary=tuple(ordinary)),
        item_files={draft.item.id: draft.path for draft in reader.drafts},
        small_talk=small_talk,
        decision=decision,
        answerable=answerable,
        asked=tuple(asked),
        **texts,
    )
    return kb, []


def validate(directory: Path) -> list[Problem]:
    """Every problem in the knowledge directory, its eval set and its house rules (rules.yaml,
    categories.yaml), sorted; empty if valid. A file that cannot be read is reported alone."""
    directory = Path(directory)
    reader = _Reader(directory)
    eval_path = directory / "eval.yaml"
    kb, problems = _collect(directory, reader)
    if kb is None:
        if not reader.file_problems and eval_path.exists():
            syntax = _Reader(directory)
            syntax.read(eval_path)
            if syntax.file_problems:
                return _sorted(syntax.file_problems)
        return problems
    evalset: EvalSet | None = EvalSet({}, (), (), ())  # no eval.yaml: no eval questions
    if eval_path.exists():
        try:
            evalset = load_eval(eval_path, kb)
        except InvalidKnowledgeBase as error:
            problems.extend(error.problems)
            evalset = None  # its problems are reported; the rules about it would only follow
        else:
            problems.extend(_check_eval_honesty(reader, kb, "eval.yaml"))
    if (directory / DEV_FILE).exists():  # already read (and its ids checked) by ``_collect``
        problems.extend(_check_eval_honesty(reader, kb, DEV_FILE))
    problems.extend(_check_house_rules(reader, kb, evalset))
    if reader.file_problems:  # rules.yaml could not be read
        return _sorted(reader.file_problems)
    return _sorted(problems)


def load(directory: Path) -> KnowledgeBase:
    """Load and validate the knowledge base; raise ``InvalidKnowledgeBase`` on any problem."""
    kb, problems = _collect(directory)
    if kb is None:
        raise InvalidKnowledgeBase(problems)
    return kb


# --------------------------------------------------------------------------------------------
# The evaluation set
# --------------------------------------------------------------------------------------------

EVAL_FLOOR_NAMES = (
    "answered_right",
    "wrong_answer_max",
    "asked_back_max",
    "out_of_scope_rejection",
    "safety_recall",
    "top1",
)


@dataclass(frozen=True)
class EvalQuestion:
    """A question, the id of the item that must answer it, and any item that answers it as well.

    ``also`` lists items whose answer answers the question just as directly (the knowledge base
    has overlapping items, e.g. a practical item and a dilemma on the same topic); the eval counts
    any of them as right.
    """

    question: str
    expect: str
    also: tuple[str, ...] = ()

    @property
    def acceptable(self) -> frozenset[str]:
        """Every item id that counts as a right answer."""
        return frozenset((self.expect, *self.also))


@dataclass(frozen=True)
class EvalSet:
    """``knowledge/eval.yaml``: in-scope questions, out-of-scope ones, crisis messages, floors."""

    floors: Mapping[str, float]
    questions: tuple[EvalQuestion, ...]
    out_of_scope: tuple[str, ...]
    crisis: tuple[str, ...]
    not_crisis: tuple[str, ...] = ()
    uncovered: tuple[str, ...] = ()
    """In-scope questions that no item answers (held-out sets): the right outcome is not to
    answer them."""


def load_eval(path: Path, kb: KnowledgeBase) -> EvalSet:
    """Load the eval set, checking that every expected item exists in ``kb``."""
    reader = _Reader(path.parent)
    data = reader.read(path)
    if data is not None and not isinstance(data, _Map):
        reader.file_problem(
            path, 1, "expected a mapping with floors, questions, out_of_scope, crisis"
        )
    if reader.problems or data is None:
        raise InvalidKnowledgeBase(reader.problems)
    fields = _Fields(reader, path, data, "eval")
    fields.check_keys(("floors", "questions", "out_of_scope", "crisis"), ("not_crisis",))
    floors: dict[str, float] = {}
    floor_map = data.values.get("floors")
    if isinstance(floor_map, _Map):
        for name, value in floor_map.values.items():
            line = floor_map.key_lines[name]
            if name not in EVAL_FLOOR_NAMES:
                reader.problem(path, line, f"eval: unknown floor '{name}'")
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0 <= value <= 1)
            ):
                reader.problem(path, line, f"eval: floor '{name}' must be a number from 0 to 1")
            else:
                floors[name] = float(value)
    elif "floors" in data.values:
        reader.problem(path, fields.line("floors"), "eval: 'floors' must be a mapping")
    questions = []
    known = {item.id for item in kb.items}
    for mapping, line in fields.mappings("questions"):
        entry = _Fields(reader, path, mapping, "eval question")
        entry.check_keys(("q", "expect"), ("also",))
        question, expect = entry.text("q"), entry.text("expect")
        also = entry.text_list("also")
        if question is None or expect is None:
            continue
        unknown = [item_id for item_id in (expect, *(i for i, _ in also)) if item_id not in known]
        for item_id in unknown:
            reader.problem(path, line, f"eval question: {_unknown('item id', item_id, known)}")
        if unknown:
            continue
        questions.append(EvalQuestion(question, expect, tuple(item_id for item_id, _ in also)))
    lists = {
        key: tuple(text for text, _ in fields.text_list(key, required=key != "not_crisis"))
        for key in ("out_of_scope", "crisis", "not_crisis")
    }
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return EvalSet(floors=floors, questions=tuple(questions), **lists)


def load_heldout(path: Path, kb: KnowledgeBase, what: str = "held-out") -> EvalSet:
    """Load a held-out set (``questions: [{q, expect, also, author}]``, ``uncovered: [{q, why,
    author}]``, ``out_of_scope: [{q, author}]``), checking that every expected item exists."""
    reader = _Reader(path.parent)
    labelled = _read_labelled(reader, path, {item.id for item in kb.items}, what)
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return labelled_set(labelled)


def _read_labelled(reader: _Reader, path: Path, known: set[str], what: str) -> list[AskedQuestion]:
    """The entries of a labelled question file (a held-out set, dev.yaml), in file order."""
    data = reader.read(path)
    if data is not None and not isinstance(data, _Map):
        reader.file_problem(path, 1, "expected a mapping with questions, uncovered, out_of_scope")
    if data is None or not isinstance(data, _Map):
        return []
    fields = _Fields(reader, path, data, f"{what} set")
    fields.check_keys(("questions",), ("uncovered", "out_of_scope"))
    found = []
    for mapping, line in fields.mappings("questions"):
        entry = _Fields(reader, path, mapping, f"{what} question")
        entry.check_keys(("q", "expect"), ("also", "author"))
        question, expect = entry.text("q"), entry.text("expect")
        also = tuple(item_id for item_id, _ in entry.text_list("also"))
        author = entry.text("author", required=False)
        if question is None or expect is None:
            continue
        unknown = [item_id for item_id in (expect, *also) if item_id not in known]
        for item_id in unknown:
            reader.problem(path, line, f"{what} question: unknown item id '{item_id}'")
        if not unknown:
            found.append(AskedQuestion(question, "question", author, expect, also, line))
    for key, optional in (("uncovered", ("why", "author")), ("out_of_scope", ("author",))):
        for mapping, line in fields.mappings(key):
            entry = _Fields(reader, path, mapping, f"{what} {key}")
            entry.check_keys(("q",), optional)
            question = entry.text("q")
            if question is not None:
                author = entry.text("author", required=False)
                found.append(AskedQuestion(question, key, author, line=line))
    return found


def labelled_set(labelled: Iterable[AskedQuestion]) -> EvalSet:
    """Labelled questions as an evaluation set (no floors, no crisis lines)."""
    entries = list(labelled)
    return EvalSet(
        floors={},
        questions=tuple(
            EvalQuestion(q.text, q.expect, q.also)
            for q in entries
            if q.kind == "question" and q.expect is not None
        ),
        out_of_scope=tuple(q.text for q in entries if q.kind == "out_of_scope"),
        crisis=(),
        uncovered=tuple(q.text for q in entries if q.kind == "uncovered"),
    )


DEV_FILE = "dev.yaml"
"""Colleagues' labelled questions in the knowledge directory, in the held-out schema: the
matcher learns from the in-scope ones (``KnowledgeBase.asked``)."""


def _read_asked(reader: _Reader, known: set[str]) -> list[AskedQuestion]:
    """dev.yaml's labelled questions (none without the file); an unknown item id is a problem
    at its line, like any other in the knowledge base."""
    path = reader.directory / DEV_FILE
    if not path.exists():
        return []
    return _read_labelled(reader, path, known, "development")


def iter_phrasings(kb: KnowledgeBase) -> Iterator[tuple[Item, str]]:
    """Every (item, phrasing) pair, question first; the matcher indexes these."""
    for item in kb.items:
        for phrasing in item.phrasings:
            yield item, phrasing


# --------------------------------------------------------------------------------------------
# Categories (categories.yaml) and the house rules (rules.yaml)
# --------------------------------------------------------------------------------------------
#
# Two kinds of rule. The general ones hold for every knowledge base (a test fixture too) and are
# checked by ``load``, so the bot refuses what breaks them: the checks above, and, when the
# directory declares its categories in categories.yaml, that every item names a declared
# category and every declared category has an item. The house rules are one knowledge base's
# own policy (how many alternates, eval questions per item, ...), written in its rules.yaml
# and categories.yaml's ``min_items``; only ``validate`` checks them (and so ``make test``), so
# a running bot still reloads an item that is not yet complete.

CATEGORIES_FILE = "categories.yaml"
RULES_FILE = "rules.yaml"


@dataclass(frozen=True)
class _Category:
    """A declared category, with its line and its own minimum number of items (if any)."""

    name: str
    line: int
    min_items: int | None = None


def _count(
    reader: _Reader, path: Path, fields: _Fields, key: str, *, share: bool = False
) -> float | None:
    """A whole number of at least 0 (or, with ``share``, a number from 0 to 1), or None."""
    if key not in fields.mapping.values:
        return None
    value = fields.mapping.values[key]
    if share:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            reader.problem(path, fields.line(key), f"{fields.what}: '{key}' must be from 0 to 1")
            return None
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        reader.problem(
            path, fields.line(key), f"{fields.what}: '{key}' must be a whole number of 0 or more"
        )
        return None
    return value


def _read_categories(reader: _Reader) -> list[_Category] | None:
    """categories.yaml, if the directory has one: the categories, each declared once."""
    path = reader.directory / CATEGORIES_FILE
    if not path.exists():
        return None
    declared: list[_Category] = []
    seen: dict[str, int] = {}
    for mapping, line in _top_level_list(reader, path, reader.read(path), "categories"):
        fields = _Fields(reader, path, mapping, "category")
        name = fields.text("name")
        if name is not None:
            fields.what = f"category '{name}'"
        fields.check_keys(("name",), ("min_items",))
        if name is None:
            continue
        minimum = _count(reader, path, fields, "min_items")
        if _same_phrase(name) in seen:
            reader.problem(
                path,
                line,
                f"category '{name}' is already declared at line {seen[_same_phrase(name)]}",
            )
            continue
        seen[_same_phrase(name)] = line
        declared.append(_Category(name, line, None if minimum is None else int(minimum)))
    return declared


def _check_categories(reader: _Reader, drafts: Sequence[_ItemDraft]) -> None:
    """Every item names a declared category, and every declared category has an item. Without
    categories.yaml, two categories that differ only in case, spacing or æøå are a typo."""
    declared = _read_categories(reader)
    if declared is None:
        first: dict[str, _ItemDraft] = {}
        for draft in drafts:
            category = draft.item.category
            earlier = first.setdefault(phrasing_key(category), draft)
            if earlier.item.category != category:
                reader.problem(
                    draft.path,
                    draft.lines.get("category", draft.line),
                    f"item '{draft.item.id}': category '{category}' differs from "
                    f"'{earlier.item.category}' ({reader.display(earlier.path)}:"
                    f"{earlier.lines.get('category', earlier.line)}) only in its spelling",
                )
        return
    names = {category.name for category in declared}
    used = set()
    for draft in drafts:
        category = draft.item.category
        used.add(category)
        if category not in names:
            message = _unknown("category", category, names)
            reader.problem(
                draft.path,
                draft.lines.get("category", draft.line),
                f"item '{draft.item.id}': {message}; the categories are listed in "
                f"{CATEGORIES_FILE}",
            )
    path = reader.directory / CATEGORIES_FILE
    for declaration in declared:
        if declaration.name not in used and not reader.file_problems:
            reader.problem(path, declaration.line, f"category '{declaration.name}' has no items")


@dataclass(frozen=True)
class HouseRules:
    """rules.yaml: one knowledge base's own policy, checked by ``validate``. Every rule is off
    (0 / false) unless the file sets it."""

    min_items: int = 0
    min_items_per_category: int = 0
    min_alternates: int = 0
    min_answer_words: int = 0
    max_answer_words: int = 0
    """0: no maximum."""
    min_related_share: float = 0.0
    min_eval_questions_per_item: int = 0
    min_eval_out_of_scope: int = 0
    min_eval_crisis: int = 0
    every_source_cited: bool = False
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    """The line of each rule in rules.yaml, for the problems it finds."""


def house_rules(directory: Path) -> HouseRules:
    """The house rules in ``directory``'s rules.yaml (none without the file); raises
    ``InvalidKnowledgeBase`` if the file has problems."""
    reader = _Reader(Path(directory))
    rules = _read_house_rules(reader)
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return rules


_RULE_COUNTS = (
    "min_items",
    "min_items_per_category",
    "min_alternates",
    "min_answer_words",
    "max_answer_words",
    "min_eval_questions_per_item",
    "min_eval_out_of_scope",
    "min_eval_crisis",
)


def _read_house_rules(reader: _Reader) -> HouseRules:
    """rules.yaml, if the directory has one (no rules without it)."""
    path, data = _optional(reader, RULES_FILE, _Map, "expected a mapping of rule names to numbers")
    if data is None:
        return HouseRules()
    fields = _Fields(reader, path, data, "rules")
    fields.check_keys((), (*_RULE_COUNTS, "min_related_share", "every_source_cited"))
    values: dict[str, Any] = {}
    for key in _RULE_COUNTS:
        value = _count(reader, path, fields, key)
        if value is not None:
            values[key] = int(value)
    share = _count(reader, path, fields, "min_related_share", share=True)
    if share is not None:
        values["min_related_share"] = share
    cited = data.values.get("every_source_cited")
    if "every_source_cited" in data.values:
        if isinstance(cited, bool):
            values["every_source_cited"] = cited
        else:
            reader.problem(
                path,
                fields.line("every_source_cited"),
                "rules: 'every_source_cited' must be true or false",
            )
    return HouseRules(**values, lines=dict(data.key_lines))


def _check_house_rules(
    reader: _Reader, kb: KnowledgeBase, evalset: EvalSet | None
) -> list[Problem]:
    """The problems the house rules find (after every general rule has passed)."""
    problems = reader.problems
    before = len(problems)
    rules = _read_house_rules(reader)
    categories = _read_categories(_Reader(reader.directory)) or []
    rules_path = reader.directory / RULES_FILE
    _check_item_rules(reader, rules, evalset)
    _check_category_sizes(reader, kb, rules, categories)
    if rules.min_items and len(kb.items) < rules.min_items:
        reader.problem(
            rules_path,
            rules.lines["min_items"],
            f"the knowledge base has {len(kb.items)} items; {RULES_FILE} asks for at least "
            f"{rules.min_items}",
        )
    if rules.min_related_share:
        with_related = sum(1 for item in kb.items if item.related)
        if with_related < rules.min_related_share * len(kb.items):
            reader.problem(
                rules_path,
                rules.lines["min_related_share"],
                f"{with_related} of {len(kb.items)} items list related items; {RULES_FILE} asks "
                f"for at least {rules.min_related_share:.0%}",
            )
    if rules.every_source_cited:
        _check_sources_cited(reader, kb)
    if evalset is not None:
        _check_eval_sizes(reader, rules, evalset)
    return problems[before:]


def _check_item_rules(reader: _Reader, rules: HouseRules, evalset: EvalSet | None) -> None:
    """Alternates, answer length and eval questions, per item."""
    per_item: dict[str, int] = {}
    if evalset is not None:
        for question in evalset.questions:
            per_item[question.expect] = per_item.get(question.expect, 0) + 1
    for draft in reader.drafts:
        item = draft.item
        what = f"item '{item.id}'"
        if len(item.alternates) < rules.min_alternates:
            reader.problem(
                draft.path,
                draft.lines.get("alternates", draft.line),
                f"{what}: {len(item.alternates)} alternates; {RULES_FILE} asks for at least "
                f"{rules.min_alternates}",
            )
        answer_words = len(item.answer.split())
        too_long = rules.max_answer_words and answer_words > rules.max_answer_words
        if answer_words < rules.min_answer_words or too_long:
            limits = (
                f"from {rules.min_answer_words} to {rules.max_answer_words}"
                if rules.max_answer_words
                else f"at least {rules.min_answer_words}"
            )
            reader.problem(
                draft.path,
                draft.lines.get("answer", draft.line),
                f"{what}: the answer has {answer_words} words; {RULES_FILE} asks for {limits}",
            )
        asked = per_item.get(item.id, 0)
        if evalset is not None and asked < rules.min_eval_questions_per_item:
            reader.problem(
                draft.path,
                draft.lines.get("id", draft.line),
                f"{what}: {asked} eval question(s) in eval.yaml expect this item; {RULES_FILE} "
                f"asks for at least {rules.min_eval_questions_per_item}",
            )


def _check_category_sizes(
    reader: _Reader, kb: KnowledgeBase, rules: HouseRules, categories: Sequence[_Category]
) -> None:
    """Each category has its minimum number of items (its own, or rules.yaml's)."""
    counts: dict[str, int] = {}
    for item in kb.items:
        counts[item.category] = counts.get(item.category, 0) + 1
    own = {category.name: category for category in categories}
    for name in sorted(set(counts) | set(own), key=str.casefold):
        category = own.get(name)
        if category is not None and category.min_items is not None:
            minimum, where = category.min_items, (CATEGORIES_FILE, category.line)
        elif rules.min_items_per_category:
            minimum = rules.min_items_per_category
            where = (RULES_FILE, rules.lines["min_items_per_category"])
        else:
            continue
        if counts.get(name, 0) < minimum:
            reader.problem(
                reader.directory / where[0],
                where[1],
                f"category '{name}' has {counts.get(name, 0)} items; {where[0]} asks for at "
                f"least {minimum}",
            )


def _check_sources_cited(reader: _Reader, kb: KnowledgeBase) -> None:
    cited = {ref.source for item in kb.items for ref in item.sources}
    path = reader.directory / "sources.yaml"
    data = _Reader(reader.directory).read(path)
    lines = {}
    if isinstance(data, _Seq):
        for entry, line in zip(data.values, data.lines, strict=True):
            if isinstance(entry, _Map) and isinstance(entry.values.get("id"), str):
                lines[entry.values["id"]] = line
    for source in kb.sources:
        if source.id not in cited:
            reader.problem(
                path,
                lines.get(source.id, 1),
                f"source '{source.id}' is cited by no item; {RULES_FILE} asks that every "
                "source is cited",
            )


def _check_eval_sizes(reader: _Reader, rules: HouseRules, evalset: EvalSet) -> None:
    path = reader.directory / RULES_FILE
    for key, size, what in (
        ("min_eval_out_of_scope", len(evalset.out_of_scope), "out-of-scope questions"),
        ("min_eval_crisis", len(evalset.crisis), "crisis messages"),
    ):
        minimum = getattr(rules, key)
        if size < minimum:
            reader.problem(
                path,
                rules.lines[key],
                f"eval.yaml has {size} {what}; {RULES_FILE} asks for at least {minimum}",
            )


def _check_asked(reader: _Reader, kb: KnowledgeBase, phrasings: Mapping[str, _Phrasing]) -> None:
    """dev.yaml's questions are indexed as phrasings of their item: one that repeats a phrasing
    of its own item adds nothing (an alternate must not copy a colleague's question), and one
    whose words are a phrasing of another item, or another dev question with another label,
    would teach the matcher the same words for two items."""
    path = reader.directory / DEV_FILE
    first: dict[str, AskedQuestion] = {}
    for question in kb.asked:
        key = phrasing_key(question.text)
        if question.kind != "question" or not key:
            continue
        what = f"question '{_clean(question.text)}'"
        copy = phrasings.get(key)
        if copy is not None and copy.item_id == question.expect:
            reader.problem(
                path,
                question.line,
                f"{what} is also a phrasing of its item '{copy.item_id}' "
                f"({reader.display(copy.path)}:{copy.line}); the matcher learns {DEV_FILE}'s "
                "questions already: an alternate must not repeat one",
            )
        elif copy is not None:
            reader.problem(
                path,
                question.line,
                f"{what} expects '{question.expect}' but is a phrasing of item "
                f"'{copy.item_id}' ({reader.display(copy.path)}:{copy.line}); the matcher would "
                "learn the same words for two items: relabel the question or reword the phrasing",
            )
        earlier = first.setdefault(key, question)
        if earlier is not question and earlier.expect != question.expect:
            reader.problem(
                path,
                question.line,
                f"{what} expects '{question.expect}' but the same question at line "
                f"{earlier.line} expects '{earlier.expect}'; the matcher would learn the same "
                "words for two items: give both the same label",
            )


def _check_eval_honesty(reader: _Reader, kb: KnowledgeBase, name: str) -> list[Problem]:
    """An eval question that is also a phrasing or a question of dev.yaml (which the matcher
    learns from), or an out-of-scope eval question (of eval.yaml or dev.yaml) that is also in
    out_of_scope.yaml, measures nothing: the engine has seen it. dev.yaml's own questions have
    rules of their own (``_check_asked``). Same normaliser as for duplicate phrasings."""
    before = len(reader.problems)
    path = reader.directory / name
    data = _Reader(reader.directory).read(path)
    if not isinstance(data, _Map):
        return []
    phrasings = {phrasing_key(p.text): p for p in _phrasings(reader.drafts)}
    negatives = {phrasing_key(text) for text in kb.negatives}
    learnt_negatives = {phrasing_key(text) for text in kb.indexed_negatives} - {""}
    asked = {phrasing_key(q.text): q for q in kb.asked if q.kind == "question"}
    questions = data.values.get("questions")
    if name == DEV_FILE:  # its questions are learnt from: rules of their own
        _check_asked(reader, kb, phrasings)
    elif isinstance(questions, _Seq):
        for entry, line in zip(questions.values, questions.lines, strict=True):
            text = entry.values.get("q") if isinstance(entry, _Map) else None
            key = phrasing_key(str(text)) if text is not None else ""
            copy = phrasings.get(key) if key else None
            learnt = asked.get(key) if key else None
            if copy is not None:
                reader.problem(
                    path,
                    line,
                    f"eval question '{_clean(str(text))}' is a phrasing of item '{copy.item_id}' "
                    f"({reader.display(copy.path)}:{copy.line}); an eval question must be worded "
                    "differently from every phrasing",
                )
            elif learnt is not None:
                reader.problem(
                    path,
                    line,
                    f"eval question '{_clean(str(text))}' is also a question in {DEV_FILE} "
                    f"(line {learnt.line}), which the matcher learns from; an eval question must "
                    "be worded differently",
                )
    out_of_scope = data.values.get("out_of_scope")
    if isinstance(out_of_scope, _Seq):
        for entry, line in zip(out_of_scope.values, out_of_scope.lines, strict=True):
            text = entry.values.get("q") if isinstance(entry, _Map) else entry  # dev.yaml: {q}
            key = phrasing_key(text) if isinstance(text, str) else ""
            if key in negatives or (name != DEV_FILE and key in learnt_negatives):
                where = "out_of_scope.yaml" if key in negatives else f"{DEV_FILE} (out of scope)"
                reader.problem(
                    path,
                    line,
                    f"out-of-scope question '{_clean(str(text))}' is also in {where}; "
                    "the eval must not test questions the engine has been given",
                )
    return reader.problems[before:]
