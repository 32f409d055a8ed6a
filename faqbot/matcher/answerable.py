"""Can the best items answer what is asked? A question close in words to an item may still ask
for something no guide holds: a place or organisation the item never names ("peer løn region
syd hvilket trin"), a phone number, a person's name, a date or a price ("tlf nr til center for
recovery i aalborg"). The ranking cannot see that; this check can, from the word lists in
``answerable.yaml``:

- names: the question's asking part names a place, organisation, IT system, law or year that
  the item (its answer, its guide, its own phrasings) never names;
- facts: the asking part asks for a kind of fact ("tlf nr", "hvad koster") that the item's
  answer does not show (no phone number, no amount);
- things: it asks for a fact about one named thing ("hvor mange ECTS-point", "hvor lang er
  prøveperioden", "hvilken dato er næste netværksmøde") and no sentence of the item's answer
  both names that thing and shows such a fact (items hold numbers, dates and names of other
  things);
- tasks: it asks the bot to do something ("skriv en mail", "har du en skabelon"): the bot
  answers from the guides and writes nothing.

The asking part is the sentences ending in "?" (else the last sentence), without a clause that
introduces the asker ("Jeg er leder i Vejle Kommune, hvordan ...?"): a name there is context,
not what is asked. An item's names and answer marks are read once, when first needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from faqbot.kb import AnswerableRules, FactKind, Item, KnowledgeBase, TaskKind
from faqbot.text import fold, stem, words

MAX_ENDING = 3
"""A name of at least ``MIN_STEM`` letters still names the thing with up to this many more
letters at its end ("aalborgs", "sundhedsplatformen")."""
MIN_STEM = 4
CACHED_WORDS = 20_000
"""How many words' name lookups ``Names`` keeps (then it starts again)."""
YEAR = re.compile(r"(?:19|20)\d\d")
_SENTENCES = re.compile(r"(?<=[.?!])\s+")
_CLAUSES = re.compile(r",|–| - ")
_ASKER = re.compile(r"\s*(?:jeg|vi)\s+(?:er|arbejder|sidder|har|bor)\b", re.IGNORECASE)
_HOW_TO = re.compile(
    r"\bhvordan\b|\b(?:kan|skal|ma|bor)\s+(?:vi|man|jeg|i)\b|\bhvad\s+(?:gor|skal|kan)\s+(?:vi|man|jeg)\b"
)
"""A how-to or may-we question (folded words: "hvordan ...", "kan vi ...", "hvad gør man ..."):
the guides' general answer holds wherever and whenever the asker is, so a place or a year named
in it is context, not what is asked (an organisation, system or law still is)."""
NAME = "<navn>"
"""The mark of a name in ``shown_by`` (a capitalised word inside a sentence)."""
PLACES = "steder"
"""The kind of names in answerable.yaml that are places."""
_MARKS = {
    "<tal>": re.compile(r"\d"),
    "<år>": re.compile(rf"\b{YEAR.pattern}\b"),
    "<telefonnummer>": re.compile(r"\b\d{2} ?\d{2} ?\d{2} ?\d{2}\b"),
    "<link>": re.compile(r"@|www\.|https?://|\.dk\b", re.IGNORECASE),
    "<paragraf>": re.compile(r"§"),
    "<dato>": re.compile(
        r"\b\d{1,2}\.\s?(?:jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)"
        r"|\b(?:man|tirs|ons|tors|fre|lør|søn)dag|\bkl\.?\s?\d|\b\d{1,2}[.:]\d\d\b",
        re.IGNORECASE,
    ),
    NAME: re.compile(r"(?<=[a-zæøå0-9,;)] )[A-ZÆØÅ][\w-]+"),
}
_ANSWER_SENTENCES = re.compile(r"(?<=[.?!;])\s+(?=[A-ZÆØÅ»\"(])")
"""Where an answer's sentences end: a stop and a capital after it ("ca. 130 kr." goes on)."""
_TOKENS = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
"""The question's words as written (``text.words`` folds them and joins compounds)."""
THING_STEM = 4
"""A thing's stem this long or longer also names it inside a compound ("peer" ->
"ungepeermedarbejdere"; at any length at a compound's start or end: "cases" -> "casestudier",
"dage" -> "undervisningsdage"); an answer word's stem needs one letter more to name the thing
inside the question's compound ("uddannelsen" -> "peeruddannelsen")."""


@dataclass(frozen=True)
class Gap:
    """What the question asks that the item does not hold, in Danish for the reply."""

    name: str | None = None
    """A name the item never names ("Region Syddanmark", "2025")."""
    fact: str | None = None
    """A kind of fact its answer does not show ("telefonnumre eller adresser")."""
    asked: str | None = None
    """For a fact about one thing: the question's own words that ask it ("hvor mange
    ECTS-point")."""
    task: str | None = None
    """A task the bot does not do, as the reply says it ("skriver ikke mails ...")."""
    nearest: str | None = None
    """The question of the nearest item, offered as what the guides do hold (a fact about one
    thing or a task; None otherwise)."""


def asking_part(question: str) -> str:
    """The sentences that ask (ending in "?"; else the last one), without the clauses that
    introduce the asker ("Jeg er leder i Vejle Kommune, ...")."""
    sentences = [s for s in _SENTENCES.split(question.strip()) if s]
    asking = [s for s in sentences if s.endswith("?")] or sentences[-1:]
    kept = []
    for sentence in asking:
        clauses = [c for c in _CLAUSES.split(sentence) if not _ASKER.match(c)]
        kept.append(" ".join(clauses) if clauses else sentence)
    return " ".join(kept)


class Names:
    """The names of ``answerable.yaml`` looked up in folded words: each form is a word sequence
    keyed by its first word; a word also matches a form it starts with, up to ``MAX_ENDING``
    letters more."""

    def __init__(self, rules: AnswerableRules) -> None:
        self.forms: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.places: set[str] = set()
        """The names (as shown) of the kind ``PLACES``."""
        self.written: dict[str, tuple[str, ...]] = {}
        """Each name (as shown) -> its forms as folded text ("region syd", "regionsyd")."""
        self.within: dict[str, str] = {}
        """Each name (as shown) -> the name that covers it ("Aalborg" -> "Region Nordjylland")."""
        self.endings = tuple(fold(e) for kind in rules.names for e in kind.endings)
        self._words: dict[str, tuple[bool, tuple[tuple[tuple[str, ...], str], ...]]] = {}
        for kind in rules.names:
            for forms in kind.names:
                if kind.kind == PLACES:
                    self.places.add(forms[0])
                if kind.within:
                    self.within[forms[0]] = kind.within
                for form in forms:
                    parts = tuple(words(form))
                    if parts:
                        self.forms.setdefault(parts[0], []).append((parts, forms[0]))
                        joined = "".join(parts)
                        written = [" ".join(parts)]
                        if len(parts) > 1:  # "Peer-Netværket" read as one word
                            self.forms.setdefault(joined, []).append(((joined,), forms[0]))
                            written.append(joined)
                        self.written[forms[0]] = (*self.written.get(forms[0], ()), *written)

    def find(self, folded: Sequence[str]) -> set[str]:
        """The names (each as shown) in a sequence of folded words."""
        found: set[str] = set()
        for at, word in enumerate(folded):
            itself, forms = self._starting(word)
            if itself:
                found.add(word)
            for parts, shown in forms:
                if _follows(folded, at, parts):
                    found.add(shown)
        return found

    def _starting(self, word: str) -> tuple[bool, tuple[tuple[tuple[str, ...], str], ...]]:
        """Is the word a name itself (a year, a word with a name ending), and the names whose
        first word it is (up to ``MAX_ENDING`` letters more); kept per word, since most words
        come back in question after question."""
        known = self._words.get(word)
        if known is None:
            if len(self._words) >= CACHED_WORDS:
                self._words.clear()
            itself = bool(YEAR.fullmatch(word)) or (
                bool(self.endings) and len(word) > MIN_STEM + 2 and word.endswith(self.endings)
            )
            cuts = range(max(0, min(MAX_ENDING, len(word) - MIN_STEM)) + 1)
            forms = tuple(f for cut in cuts for f in self.forms.get(word[: len(word) - cut], ()))
            known = self._words[word] = (itself, forms)
        return known


def _follows(folded: Sequence[str], at: int, parts: tuple[str, ...]) -> bool:
    """Do the words after ``at`` go on with the rest of a name's words (endings allowed)?"""
    rest = folded[at + 1 : at + len(parts)]
    return len(rest) == len(parts) - 1 and all(
        word.startswith(part) and len(word) - len(part) <= MAX_ENDING
        for word, part in zip(rest, parts[1:], strict=True)
    )


GAP = " ... "
"""In a phrase that asks, words may stand between its parts: "hvor mange ... i dag"."""


def asking_phrases(fact: FactKind) -> tuple[tuple[str, ...], ...]:
    """The phrases that ask for the fact, each as its parts (``GAP`` between them), each part
    folded words joined by spaces."""
    return _phrases(fact.asks)


def _phrases(texts: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """``asking_phrases`` of any phrases."""
    return tuple(
        tuple(" ".join(words(part)) for part in phrase.split(GAP.strip()) if words(part))
        for phrase in texts
    )


_TASK_CLAUSES = re.compile(r"[.!?;:,\n–]|\s-\s")
"""Where a request for a task may start: a sentence or a clause."""
GREETINGS = frozenset({"hej", "hejsa", "hallo", "goddag", "kare", "venligst", "lige", "sa", "og"})
"""Folded words a request may open with before its verb ("Hej, lav ...", "og så skriv ...")."""


def _opening(clause: str) -> str:
    """A clause's folded words joined, without the greetings it opens with."""
    folded = words(clause)
    at = 0
    while at < len(folded) and folded[at] in GREETINGS:
        at += 1
    return " ".join(folded[at:])


def fact_asked(fact: FactKind, folded: Sequence[str]) -> bool:
    """Does the question (folded words) use one of the phrases that ask for the fact?"""
    return asks(asking_phrases(fact), folded)


def asks(phrases: Iterable[tuple[str, ...]], folded: Sequence[str]) -> bool:
    """Is one of the folded phrases in the folded words: each part a run of them, the parts in
    their order?"""
    return _asks(phrases, f" {' '.join(folded)} ")


def _asks(phrases: Iterable[tuple[str, ...]], text: str) -> bool:
    """``asks`` on the folded words joined, with a space at each end."""
    for parts in phrases:
        at = 0
        for part in parts:
            at = text.find(f" {part} ", at)
            if at < 0:
                break
            at += len(part) + 1
        else:
            if parts:
                return True
    return False


def fact_shown(fact: FactKind, answer: str, folded: Iterable[str]) -> bool:
    """Does an answer (as written, and its folded words) show the fact?"""
    folded = tuple(folded)
    for shown in fact.shown_by:
        mark = _MARKS.get(shown)
        if mark is not None:
            if mark.search(answer):
                return True
            continue
        stem = " ".join(words(shown.rstrip("*")))
        if " " in stem:  # a phrase: "i dag"
            if f" {stem} " in f" {' '.join(folded)} ":
                return True
            continue
        starts = shown.endswith("*")
        if any(word.startswith(stem) if starts else word == stem for word in folded):
            return True
    return False


def mentions(text: str, forms: Iterable[str]) -> bool:
    """Does a folded text (" "-joined words, a space at each end) name a thing in one of its
    folded forms? A form of ``MIN_STEM`` letters or more may go on with any ending; a shorter
    one ("foa", "3f") must be a whole word."""
    return any((f" {form}" if len(form) >= MIN_STEM else f" {form} ") in text for form in forms)


def names_thing(thing: str, word: str) -> bool:
    """Does a folded word of an answer name the thing asked about (a folded word of the
    question): the same stem, or one inside the other's compound (``THING_STEM``)?"""
    if thing == word:
        return True
    wanted, found = stem(thing), stem(word)
    return (
        wanted == found
        or word.startswith(wanted)
        or word.endswith(thing)
        or (len(wanted) >= THING_STEM and wanted in word)
        or (len(found) > THING_STEM and found in thing)
    )


def sentences(answer: str) -> list[str]:
    """An answer's sentences (``_ANSWER_SENTENCES``)."""
    return [s for s in _ANSWER_SENTENCES.split(answer) if s]


def written_words(text: str, folded: Sequence[str]) -> list[str]:
    """The words of ``text`` as written, one per folded word (the folded ones themselves when
    the two do not line up)."""
    written = _TOKENS.findall(text)
    return written if len(written) == len(folded) else list(folded)


Sentence = tuple[frozenset[str], frozenset[str] | None]
"""A sentence of an answer that shows a fact: its folded words, and the names (folded) that
show it when only names do (else None)."""


@dataclass(frozen=True)
class Thing:
    """A fact asked about one thing: the kind (its place in ``things``), the thing's folded
    word, and the question's words from the asking phrase to the thing (as written)."""

    kind: int
    word: str
    asked: str
    question: frozenset[str] = frozenset()
    """The asking part's folded words (a name there is not an answer)."""


class Answerability:
    """The check, built once per knowledge base. What it needs of an item (its texts as folded
    words, whether its answer shows each kind of fact) is read when the item is first a
    candidate, and kept."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.rules = kb.answerable
        self.names = Names(kb.answerable)
        self.facts = tuple((fact, asking_phrases(fact)) for fact in kb.answerable.facts)
        self._phrases = tuple(
            tuple((parts[0].split()[0], parts) for parts in phrases if parts)
            for _, phrases in self.facts
        )
        """Each kind's phrases with the first word of each."""
        self.things = tuple((fact, asking_phrases(fact)) for fact in kb.answerable.things)
        self._thing_phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        """Each thing kind's phrases (no gaps) as folded words, keyed by their first word."""
        for at, (_, phrases) in enumerate(self.things):
            for parts in phrases:
                if len(parts) == 1:
                    phrase = tuple(parts[0].split())
                    self._thing_phrases.setdefault(phrase[0], []).append((at, phrase))
        self.between = frozenset(" ".join(words(w)) for w in kb.answerable.between)
        self.not_things = frozenset(" ".join(words(w)) for w in kb.answerable.not_things)
        self.tasks = tuple(
            (task, _phrases(task.asks), tuple(" ".join(words(p)) for p in task.starts))
            for task in kb.answerable.tasks
        )
        self._task_words = frozenset(
            phrase.split()[0]
            for _, asked, starts in self.tasks
            for phrase in (*(parts[0] for parts in asked if parts), *starts)
            if phrase
        )
        """The first words of every task phrase: a question with none of them asks no task."""
        self.synonyms: dict[str, tuple[str, ...]] = {}
        """Each one-word synonym (synonyms.yaml) -> the one-word members of its group: an
        answer names the thing in any of them ("hæftet" -> "miniguiden")."""
        for group in kb.synonyms:
            members = tuple(w for w in (" ".join(words(m)) for m in group) if w and " " not in w)
            for member in members:
                self.synonyms[member] = members
        self._texts: dict[str, str] = {}
        self._shown: dict[tuple[str, int], bool] = {}
        self._about: dict[tuple[str, int], tuple[Sentence, ...]] = {}

    def item_text(self, item: Item) -> str:
        """An item's answer, its guides (title, publisher, year, section) and its own
        phrasings, as folded words with a space at each end."""
        text = self._texts.get(item.id)
        if text is None:
            texts = [item.answer, *item.phrasings]
            for ref in item.sources:
                source = self.kb.source(ref.source)
                texts += [source.title, source.publisher, source.year, ref.section]
            text = self._texts[item.id] = f" {' '.join(words(' . '.join(texts)))} "
        return text

    def names_it(self, item: Item, name: str) -> bool:
        """Does the item name this name (as shown: "Aalborg", "2025"), or the one that covers
        it ("Region Nordjylland")?"""
        text = self.item_text(item)
        written = self.names.written
        if mentions(text, written.get(name, (name,))):
            return True
        within = self.names.within.get(name)
        return within is not None and mentions(text, written.get(within, (within,)))

    def shows(self, item: Item, at: int) -> bool:
        """Does the item's answer show the ``at``-th kind of fact?"""
        key = (item.id, at)
        shown = self._shown.get(key)
        if shown is None:
            fact = self.facts[at][0]
            shown = self._shown[key] = fact_shown(fact, item.answer, words(item.answer))
        return shown

    def about(self, item: Item, at: int) -> tuple[Sentence, ...]:
        """The sentences of the item's answer that show the ``at``-th kind of ``things``, each
        as its folded words and, when only names (``<navn>``) show it, those names (folded)."""
        key = (item.id, at)
        found = self._about.get(key)
        if found is None:
            fact = self.things[at][0]
            others = replace(fact, shown_by=tuple(s for s in fact.shown_by if s != NAME))
            shown: list[Sentence] = []
            for sentence in sentences(item.answer):
                folded = words(sentence)
                if fact_shown(others, sentence, folded):
                    shown.append((frozenset(folded), None))
                elif NAME in fact.shown_by and (names := _MARKS[NAME].findall(sentence)):
                    shown.append((frozenset(folded), frozenset(words(" ".join(names)))))
            found = self._about[key] = tuple(shown)
        return found

    def shows_about(self, item: Item, thing: Thing) -> bool:
        """Does one sentence of the item's answer both name the thing and show the fact (by a
        name, only one the question does not use itself: "hvad hedder lederen af Center for
        Recovery" is not answered by a sentence naming the centre)?"""
        variants = self.synonyms.get(thing.word, (thing.word,))
        return any(
            (names is None or not names <= thing.question)
            and any(names_thing(variant, word) for word in sentence for variant in variants)
            for sentence, names in self.about(item, thing.kind)
        )

    def _gap(
        self, named: set[str], asked: Sequence[int], things: Sequence[Thing], item: Item
    ) -> Gap | None:
        """What the question (the names it asks about, the kinds of facts it asks for, the
        facts about one thing) asks that this item does not hold (None: nothing found)."""
        missing = sorted(name for name in named if not self.names_it(item, name))
        if missing:
            return Gap(name=missing[0])
        for at in asked:
            if not self.shows(item, at):
                return Gap(fact=self.facts[at][0].says)
        for thing in things:
            if not self.shows_about(item, thing):
                return Gap(fact=self.things[thing.kind][0].says, asked=thing.asked)
        return None

    def asked_things(self, folded: Sequence[str], written: Sequence[str]) -> list[Thing]:
        """The facts the asking part asks about one thing each: a phrase of ``things``, then
        (past the ``between`` words) the word naming the thing, unless it is one of
        ``not_things`` ("hvor mange skal ...")."""
        found = []
        for start, first in enumerate(folded):
            for at, phrase in self._thing_phrases.get(first, ()):
                end = start + len(phrase)
                if tuple(folded[start:end]) != phrase:
                    continue
                while end < len(folded) and folded[end] in self.between:
                    end += 1
                if end < len(folded) and folded[end] not in self.not_things:
                    asked = " ".join(written[start : end + 1])
                    found.append(Thing(at, folded[end], asked, frozenset(folded)))
        return found

    def task(self, question: str) -> TaskKind | None:
        """The task the question asks the bot to do, if it asks one: a request may stand in
        any sentence ("Skriv en mail til teamet. Tak!"); a phrase of ``starts`` counts at the
        start of a sentence or clause (after a greeting: "Hej, lav en vagtplan")."""
        folded = words(question)
        present = self._task_words.intersection(folded)
        if not present:
            return None
        text = f" {' '.join(folded)} "
        starts = [_opening(clause) for clause in _TASK_CLAUSES.split(question)]
        starts = [start for start in starts if start.split(" ", 1)[0] in present]
        for task, phrases, openings in self.tasks:
            if _asks((p for p in phrases if p and p[0].split()[0] in present), text) or any(
                start == opening or start.startswith(f"{opening} ")
                for start in starts
                for opening in openings
            ):
                return task
        return None

    def asked_facts(self, folded: Sequence[str]) -> list[int]:
        """The kinds of facts (their places in the list) the asking part asks for: only the
        phrases whose first word the question has are looked for."""
        present = set(folded)
        text = f" {' '.join(folded)} "
        return [
            at
            for at, phrases in enumerate(self._phrases)
            if _asks((parts for first, parts in phrases if first in present), text)
        ]

    def asked_names(self, folded: Sequence[str]) -> set[str]:
        """The names the asking part asks about: in a how-to or may-we question, not its places
        and years."""
        found = self.names.find(folded)
        if found and _HOW_TO.search(" ".join(folded)):
            return {n for n in found if n not in self.names.places and not YEAR.fullmatch(n)}
        return found

    def unanswerable(
        self, question: str, items: Sequence[Item], asking: str | None = None
    ) -> Gap | None:
        """The gap of the first item when every one of ``items`` has one, else None; a request
        for a task is always a gap (with the first item offered as the nearest). ``asking``:
        the question's asking part when the caller has cut it already (``Query.asking``)."""
        if not items:
            return None
        part = asking_part(question) if asking is None else asking
        folded = words(part)
        nearest = items[0].question
        task = self.task(question)
        if task is not None:
            return Gap(task=task.says, nearest=nearest)
        named = self.asked_names(folded)
        asked = self.asked_facts(folded)
        things = self.asked_things(folded, written_words(part, folded)) if self.things else []
        if not named and not asked and not things:
            return None
        first: Gap | None = None
        for item in items:
            gap = self._gap(named, asked, things, item)
            if gap is None:
                return None
            first = first or gap
        if first is not None and first.asked is not None:
            return replace(first, nearest=nearest)
        return first
