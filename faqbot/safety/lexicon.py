"""The crisis lexicon: sentences and words of a message, and the phrases of ``safety.yaml`` in them.

A message is cut into sentences (at ``!``, ``?``, ``;``, line breaks, and ``.``, ``:`` or ``…``
before white space, not at the dot after a number: "5. sal"); each sentence into words
(``word_of``: casefolded, hyphens and apostrophes inside a word dropped, three or more of one
letter made one, æ/ae/a, ø/oe/o, å/aa/a folded; a laughing emoji is "haha", another emoji a word).

A phrase is a few phrase words that occur in one sentence in the order written, with at most
``MAX_GAP`` other words between two of them ("har taget alle mine piller" is the phrase
"<take> <amount> <pills>"). A phrase word matches a message word when

* the word is the phrase word with a regular Danish ending (``inflections``: ``skære`` ~
  ``skærer``, ``skæres``, folded ``skaret``), or such a form of a word in its ``forms`` group
  (irregular forms and chat spellings: ``skar``, ``skåret``; ``ik`` ~ ``ikke``);
* it is written ``pre-``, ``-suf`` or ``-mid-`` and the word starts with, ends with or contains
  it (``selvmord-`` ~ ``selvmordstanker``; ``-piller`` ~ ``hovedpinepiller``), letter for letter;
* it is a danger or topic word of ``FUZZY_MIN`` letters or more and the word is one typo away
  (one letter missing, added, changed, or two swapped: ``bevistløs``);
* it is ``<class>`` and the word matches one of the class's members; ``a|b`` is either.

Short words are not stretched (no typos, no endings under three letters): in a work chat "far",
"fart" and "dør" must not read as "fare" or "dø".

Every distinct message word is analysed once and remembered, and a phrase is only looked at when
its anchor (its word the examples match least often) is in the sentence, so a long message costs
a few dictionary look-ups per word; ``Lexicon.hits_reference`` is the slow, obvious twin (every
phrase word against every word by ``_Atom.matches``) the tests compare it with.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from rapidfuzz.distance import OSA

from faqbot.kb import SafetyRules
from faqbot.safety.remembered import Remembered
from faqbot.text import fold

MAX_GAP = 2
"""Other words allowed between two words of a phrase."""
FUZZY_MIN = 8
"""Phrase words this long also match a word one typo away."""

_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_SENTENCE_END = re.compile(r"([!?;\n\r]+|[.:…]+(?=\s|$))")
"""``!``, ``?``, ``;``, a line break; ``.``, ``:`` or ``…`` before white space (but see
``sentences``: not the dot after a number)."""
_TOKEN = re.compile(rf"[^\W_]+(?:[-'’][^\W_]+)*|[{_EMOJI}]")
"""A word (hyphens and apostrophes inside it kept for now) or an emoji."""
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
"""Three or more of one letter are one ("hjææælp")."""
_LAUGHING = frozenset("😂🤣😆😅😄😁😹🙈😜😝😛🤭")


class Group(StrEnum):
    """What a phrase says about the sentence it is found in."""

    DANGER = "danger"
    TOPIC = "topic"
    URGENT = "urgent"
    POLICY = "policy"
    PAST = "past"
    FIGURATIVE = "figurative"


@dataclass(frozen=True)
class Phrase:
    """One phrase of ``safety.yaml``: its text, group, situation (danger phrases) and slots."""

    text: str
    group: Group
    situation: str | None
    slots: tuple[int, ...]
    """The phrase-word ids, one per word of the phrase."""


@dataclass(frozen=True)
class Hit:
    """A phrase found in a sentence, at these word positions."""

    phrase: Phrase
    positions: tuple[int, ...]


class Sentence(NamedTuple):
    """One sentence: its folded words and how it ends."""

    words: tuple[str, ...]
    question: bool
    """It ends with a question mark."""
    exclaims: bool
    """It ends with an exclamation mark."""


def sentences(message: str) -> list[Sentence]:
    """The message's sentences with their words (sentences without words dropped). A dot
    right after a number ends no sentence ("på 5. sal")."""
    return list(iter_sentences(message))


def iter_sentences(message: str) -> Iterator[Sentence]:
    """``sentences`` one at a time: a caller that stops early does not read the rest."""
    parts = _SENTENCE_END.split(unicodedata.normalize("NFC", message).casefold())
    word = _WORDS.__getitem__
    text = ""
    for index in range(0, len(parts), 2):
        text += parts[index]
        mark = parts[index + 1] if index + 1 < len(parts) else ""
        if mark[:1] == "." and text[-1:].isdigit():
            text += mark
            continue
        words = tuple(map(word, _TOKEN.findall(text)))
        if words:
            yield Sentence(words, "?" in mark, "!" in mark)
        text = ""


def word_of(token: str) -> str:
    """A casefolded token as the lexicon and classifier read it: hyphens and apostrophes inside
    it dropped ("peer-støtte" is one word), three or more of one letter made one, æ/ae, ø/oe,
    å/aa folded; a laughing emoji is "haha", another emoji itself."""
    if token in _LAUGHING:
        return "haha"
    joined = token.replace("-", "").replace("'", "").replace("’", "")
    return fold(_REPEATS.sub(r"\1", joined))


_WORDS = Remembered(word_of)
"""Token -> word (``word_of``), remembered."""


ENDINGS = (
    "", "e", "n", "r", "s", "t", "en", "er", "es", "et", "ne", "de", "te", "ede", "ene", "ens",
    "ers", "ets", "ende", "erne", "ernes",
)  # fmt: skip
"""Regular Danish endings: a phrase word also matches itself plus one of these."""
INFLECT_MIN = 3


def inflections(word: str) -> set[str]:
    """The word with every regular ending, and a word ending in e also without it before an
    ending that starts with a vowel ("skære" gives "skærer", "skæres", "skærende" and, folded,
    "skaret" for "skåret"; "fare" gives "faren" but not "far" or "fart"); words shorter than
    ``INFLECT_MIN`` only themselves ("dø" is not "dør")."""
    if len(word) < INFLECT_MIN:
        return {word}
    forms = {word + ending for ending in ENDINGS}
    if word.endswith("e"):
        forms.update(word[:-1] + ending for ending in ENDINGS if ending[:1] in ("e", "a"))
    return forms


@dataclass(frozen=True)
class _Atom:
    """One alternative of a phrase word: folded text, and whether it is a start/end/middle."""

    text: str
    prefix: bool
    suffix: bool
    fuzzy: bool
    """A typo counts (whole words of ``FUZZY_MIN`` letters or more, in danger and topic phrases)."""

    @classmethod
    def parse(cls, written: str, fuzzy: bool) -> _Atom:
        prefix, suffix = written.endswith("-"), written.startswith("-")
        text = fold(written.strip("-").replace("-", "").replace("'", "").replace("’", ""))
        whole = not (prefix or suffix)
        return cls(text, prefix, suffix, fuzzy and whole and len(text) >= FUZZY_MIN)

    def forms(self, groups: dict[str, tuple[str, ...]]) -> set[str]:
        """Every word a whole-word atom matches: its inflections and its form group's."""
        return {
            form for member in groups.get(self.text, (self.text,)) for form in inflections(member)
        }

    def matches(self, word: str, forms: frozenset[str]) -> bool:
        """The slow, obvious rule for one word, given the atom's ``forms`` (the reference the
        index must agree with)."""
        if self.prefix and self.suffix:
            return self.text in word
        if self.prefix:
            return word.startswith(self.text)
        if self.suffix:
            return word.endswith(self.text)
        return word in forms or (self.fuzzy and OSA.distance(word, self.text) <= 1)


def _deletions(text: str) -> set[str]:
    """The text and every text one letter shorter (the symmetric-delete typo index)."""
    return {text, *(text[:i] + text[i + 1 :] for i in range(len(text)))}


class Lexicon:
    """The phrases of ``safety.yaml``, compiled for fast look-up."""

    def __init__(self, rules: SafetyRules) -> None:
        self._classes = {name: members for name, members in rules.words}
        self.form_groups: dict[str, tuple[str, ...]] = {}
        """Folded word -> every folded word of its ``forms`` group."""
        for forms in rules.forms:
            folded = tuple(fold(form) for form in forms)
            for form in folded:
                self.form_groups.setdefault(form, folded)
        self.word_atoms: list[tuple[_Atom, ...]] = []
        self._word_ids: dict[tuple[str, bool], int] = {}
        lists: list[tuple[Group, str | None, Sequence[str]]] = [
            (Group.DANGER, None, rules.phrases),
            *((Group.DANGER, s.name, s.phrases) for s in rules.situations),
            (Group.TOPIC, None, rules.topic_phrases),
            (Group.URGENT, None, rules.urgent_phrases),
            (Group.POLICY, None, rules.policy_phrases),
            (Group.PAST, None, rules.past_phrases),
            (Group.FIGURATIVE, None, rules.figurative_phrases),
        ]
        phrases = []
        for group, situation, texts in lists:
            fuzzy = group in (Group.DANGER, Group.TOPIC)
            for text in texts:
                slots = tuple(self._word_id(word, fuzzy) for word in text.split())
                if slots:
                    phrases.append(Phrase(text, group, situation, slots))
        self.phrases = tuple(phrases)
        self._index()
        self._cache = Remembered(self._analyse)
        seen: Counter[int] = Counter()
        for example in rules.examples:
            for sentence in sentences(example.text):
                seen.update(i for word in sentence.words for i in self._cache[word])
        self._by_anchor: dict[int, list[int]] = {}
        for index, phrase in enumerate(self.phrases):
            anchor = min(phrase.slots, key=lambda slot: (seen[slot], -self._specificity(slot)))
            self._by_anchor.setdefault(anchor, []).append(index)
        self._anchors = frozenset(self._by_anchor)
        self._subject_by_anchor = {
            anchor: [i for i in indexes if self.phrases[i].group in _SUBJECT]
            for anchor, indexes in self._by_anchor.items()
        }
        self._subject_anchors = frozenset(a for a, i in self._subject_by_anchor.items() if i)
        self._slot_sets = [frozenset(phrase.slots) for phrase in self.phrases]

    def _word_id(self, written: str, fuzzy: bool) -> int:
        """The id of a phrase word; a cue's words never match typos (a typo there could only
        make a danger sentence read as calm)."""
        known = self._word_ids.get((written, fuzzy))
        if known is None:
            members = self._classes[written[1:-1]] if written.startswith("<") else (written,)
            atoms = tuple(
                _Atom.parse(alternative, fuzzy)
                for member in members
                for alternative in member.split("|")
            )
            known = self._word_ids[(written, fuzzy)] = len(self.word_atoms)
            self.word_atoms.append(tuple(atom for atom in atoms if atom.text))
        return known

    def _specificity(self, word_id: int) -> int:
        """How rarely a phrase word is likely to match: the length of its shortest form (a
        start or an end counts half). A phrase is looked at only when its anchor is in the
        sentence: the word the examples match least often (ties: the most specific)."""
        shortest = 1_000
        for atom in self.word_atoms[word_id]:
            if atom.prefix or atom.suffix:
                length = len(atom.text) // 2
            else:
                length = min(len(form) for form in atom.forms(self.form_groups))
            shortest = min(shortest, length)
        return shortest

    def _index(self) -> None:
        """Look-up tables from a folded word (or its start or end) to phrase-word ids."""
        self.forms: dict[_Atom, frozenset[str]] = {}
        self._exact: dict[str, set[int]] = {}
        self._prefixes: dict[str, set[int]] = {}
        self._suffixes: dict[str, set[int]] = {}
        self._infixes: list[tuple[str, int]] = []
        self._typos: dict[str, set[tuple[str, int]]] = {}
        for word_id, atoms in enumerate(self.word_atoms):
            for atom in atoms:
                if atom.prefix and atom.suffix:
                    self._infixes.append((atom.text, word_id))
                elif atom.prefix:
                    self._prefixes.setdefault(atom.text, set()).add(word_id)
                elif atom.suffix:
                    self._suffixes.setdefault(atom.text, set()).add(word_id)
                else:
                    forms = self.forms.setdefault(atom, frozenset(atom.forms(self.form_groups)))
                    for form in forms:
                        self._exact.setdefault(form, set()).add(word_id)
                    if atom.fuzzy:
                        for variant in _deletions(atom.text):
                            self._typos.setdefault(variant, set()).add((atom.text, word_id))
        self._prefix_lengths = sorted({len(text) for text in self._prefixes})

    def word_ids(self, word: str) -> frozenset[int]:
        """The ids of every phrase word this message word matches (remembered per word)."""
        return self._cache[word]

    def _analyse(self, word: str) -> frozenset[int]:
        found: set[int] = set(self._exact.get(word, ()))
        for length in self._prefix_lengths:
            if length > len(word):
                break
            found.update(self._prefixes.get(word[:length], ()))
        for start in range(len(word)):
            found.update(self._suffixes.get(word[start:], ()))
        found.update(word_id for text, word_id in self._infixes if text in word)
        if len(word) >= FUZZY_MIN - 1:
            for variant in _deletions(word):
                for text, word_id in self._typos.get(variant, ()):
                    if word_id not in found and OSA.distance(word, text) <= 1:
                        found.add(word_id)
        return frozenset(found)

    def hits(self, sentence: Sentence) -> list[Hit]:
        """Every phrase found in the sentence (see ``_resolve``); none at all when the sentence
        has no danger or topic phrase (cues matter only beside one)."""
        candidates = self._candidates(sentence)
        return _resolve(*candidates) if candidates is not None else []

    def groups(self, sentence: Sentence) -> set[Group]:
        """What ``detector.decide`` needs of ``hits``, no more: the danger and topic groups
        found, one calm group (policy or past) if any, and urgency only beside danger and calm.
        Cues are tried one by one and the search stops at the first that counts."""
        candidates = self._candidates(sentence)
        if candidates is None:
            return set()
        figurative, subject, cues = _partition(candidates[0])
        positions = candidates[1]
        free = _free(positions, [h for p in figurative if (h := _find(p, positions)) is not None])
        found = [hit for phrase in subject if (hit := _find(phrase, free)) is not None]
        groups = {hit.phrase.group for hit in found}
        if not groups:
            return groups
        danger = {place for h in found if h.phrase.group is Group.DANGER for place in h.positions}
        for phrase in cues:
            hit = _find(phrase, positions) if phrase.group in _CALM else None
            if hit is not None and not danger.intersection(hit.positions):
                groups.add(phrase.group)
                break
        if Group.DANGER in groups and groups & _CALM:
            for phrase in cues:
                if phrase.group is Group.URGENT and _find(phrase, positions) is not None:
                    groups.add(Group.URGENT)
                    break
        return groups

    def _candidates(self, sentence: Sentence) -> tuple[list[Phrase], dict[int, list[int]]] | None:
        """The phrases that may be in the sentence, with where their words are; None when no
        danger or topic phrase can be. Only phrases whose anchor word is in the sentence are
        looked at, and only their words' positions are collected."""
        per_word = list(map(self._cache.__getitem__, sentence.words))
        present = frozenset().union(*per_word)
        slot_sets = self._slot_sets
        if not any(
            slot_sets[i] <= present
            for anchor in present & self._subject_anchors
            for i in self._subject_by_anchor[anchor]
        ):
            return None
        found = sorted(
            i
            for anchor in present & self._anchors
            for i in self._by_anchor[anchor]
            if slot_sets[i] <= present
        )
        needed = frozenset().union(*(slot_sets[i] for i in found))
        positions: dict[int, list[int]] = {}
        for place, ids in enumerate(per_word):
            for slot in ids & needed:
                positions.setdefault(slot, []).append(place)
        return [self.phrases[i] for i in found], positions

    def hits_reference(self, sentence: Sentence) -> list[Hit]:
        """The same hits, every phrase word compared with every word by ``_Atom.matches``
        (slow; for tests)."""
        positions: dict[int, list[int]] = {}
        for slot, atoms in enumerate(self.word_atoms):
            places = [
                place
                for place, word in enumerate(sentence.words)
                if any(atom.matches(word, self.forms.get(atom, frozenset())) for atom in atoms)
            ]
            if places:
                positions[slot] = places
        found = [phrase for phrase in self.phrases if all(s in positions for s in phrase.slots)]
        if not any(phrase.group in _SUBJECT for phrase in found):
            return []
        return _resolve(found, positions)


def _resolve(found: list[Phrase], positions: dict[int, list[int]]) -> list[Hit]:
    """The hits of candidate phrases (in file order) given where each phrase word occurs:
    figures of speech first; a danger or topic phrase only on words no figure of speech used; a
    calm cue (policy, past) only on words no danger phrase used."""
    figurative, subject, cues = _partition(found)
    result = [hit for phrase in figurative if (hit := _find(phrase, positions)) is not None]
    free = _free(positions, result)
    result += [hit for phrase in subject if (hit := _find(phrase, free)) is not None]
    danger = {place for h in result if h.phrase.group is Group.DANGER for place in h.positions}
    for phrase in cues:
        hit = _find(phrase, positions)
        if hit is None or (phrase.group in _CALM and danger.intersection(hit.positions)):
            continue
        result.append(hit)
    return result


def _partition(found: list[Phrase]) -> tuple[list[Phrase], list[Phrase], list[Phrase]]:
    """Figures of speech, danger and topic phrases, cues."""
    figurative, subject, cues = [], [], []
    for phrase in found:
        group = phrase.group
        if group is Group.FIGURATIVE:
            figurative.append(phrase)
        elif group is Group.DANGER or group is Group.TOPIC:
            subject.append(phrase)
        else:
            cues.append(phrase)
    return figurative, subject, cues


def _free(positions: dict[int, list[int]], figurative: list[Hit]) -> dict[int, list[int]]:
    """The positions no figure of speech used."""
    if not figurative:
        return positions
    used = {place for hit in figurative for place in hit.positions}
    return {
        slot: kept
        for slot, places in positions.items()
        if (kept := [place for place in places if place not in used])
    }


_SUBJECT = frozenset({Group.DANGER, Group.TOPIC})
_CALM = frozenset({Group.POLICY, Group.PAST})


def _find(phrase: Phrase, positions: dict[int, list[int]]) -> Hit | None:
    """The phrase's words in the order written, at most ``MAX_GAP`` other words between two of
    them, or None: for each word in turn, the places reachable from the places the words before
    it could end at (the earliest way to reach each)."""
    if len(phrase.slots) == 1:
        places = positions.get(phrase.slots[0])
        return Hit(phrase, (places[0],)) if places else None
    reach: dict[int, tuple[int, ...]] | None = None
    for slot in phrase.slots:
        places = positions.get(slot)
        if not places:
            return None
        if reach is None:
            reach = {place: (place,) for place in places}
            continue
        step: dict[int, tuple[int, ...]] = {}
        for place in places:
            for end, chosen in reach.items():
                if end < place <= end + MAX_GAP + 1:
                    step[place] = (*chosen, place)
                    break
        if not step:
            return None
        reach = step
    if not reach:
        return None
    return Hit(phrase, reach[min(reach)])
