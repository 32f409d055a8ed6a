"""The crisis lexicon: sentences and words of a message, and the phrases of ``safety.yaml`` in them.

A message is cut into sentences (at ``!``, ``?``, ``;``, line breaks, and ``.``, ``:`` or ``…``
before white space, not at the dot after a number: "5. sal"; and before a word that starts a new
thought in chat: "nå", "btw", "forresten", "men nu"); each sentence into words
(``word_of``: casefolded, hyphens and apostrophes inside a word dropped, three or more of one
letter made one, æ/ae/a, ø/oe/o, å/aa/a folded, other accents dropped (``plain``); a laughing
emoji (and "💀") is "haha", an emoji that shows a danger ("🔪", "💊") its word, another emoji a
word).

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
from itertools import chain
from typing import NamedTuple

from rapidfuzz.distance import OSA

from faqbot.kb import SafetyRules
from faqbot.safety.remembered import Remembered
from faqbot.text import fold

PEOPLE = ("victim", "person", "self", "body")
"""Classes of ``safety.yaml``'s ``words`` that name people or their bodies: a figure of speech
never has one between its words (see ``Lexicon._figures``; "slået knoerne til blods" is no
"slå til")."""
MAX_GAP = 2
"""Other words allowed between two words of a phrase."""
FUZZY_MIN = 8
"""Phrase words this long also match a word one typo away."""

_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_SENTENCE_END = re.compile(r"((?=[!?;\n\r.:…])(?:[!?;\n\r]+|[.:…]+(?=\s|$)))")
"""``!``, ``?``, ``;``, a line break; ``.``, ``:`` or ``…`` before white space (but see
``sentences``: not the dot after a number). The look-ahead first lets the engine skip every
other character at once (three times faster on a 4,096-character message)."""
_TOKEN = re.compile(rf"[^\W_]+(?:[-'’][^\W_]+)*|[{_EMOJI}]")
"""A word (hyphens and apostrophes inside it kept for now) or an emoji."""


def tokens(text: str) -> list[str]:
    """``_TOKEN.findall(text)`` by a shorter way (the regular expression costs a fifth of a
    millisecond on a 4,096-character message): the text is cut at white space and commas (a
    token never spans either), and when every piece is letters and digits only, the pieces are
    the tokens; otherwise a piece is a token once the punctuation around it is stripped
    ("(hej)"), or else goes through the expression (a hyphen, an apostrophe or an emoji in it).
    ``tokens_reference`` is the twin."""
    pieces = text.replace(",", " ").split()
    if "".join(pieces).isalnum():
        return pieces
    found: list[str] = []
    for piece in pieces:
        if piece.isalnum():
            found.append(piece)
        elif (word := piece.strip(_EDGES)).isalnum():
            found.append(word)
        else:
            found += _TOKEN.findall(piece)
    return found


_EDGES = '.:;!?"()[]{}«»“”„…*/'
"""Punctuation that is never part of a token, stripped from a piece's ends by ``tokens``."""


def tokens_reference(text: str) -> list[str]:
    """The words and emoji of a text by the regular expression alone (slow; for tests)."""
    return _TOKEN.findall(text)


_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
"""Three or more of one letter are one ("hjææælp")."""
_LAUGHING = frozenset("😂🤣😆😅😄😁😹🙈😜😝😛🤭💀☠")
"""Emoji read as "haha" (in chat "💀" and "☠" mean dying of laughter)."""
_EMOJI_WORDS = {
    "🔪": "kniv",
    "🗡": "kniv",
    "💊": "piller",
    "🔫": "pistol",
    "🩸": "blod",
    "🪢": "reb",
}
"""Emoji read as the danger word they show ("har 💊💊 klar")."""


class Group(StrEnum):
    """What a phrase says about the sentence it is found in."""

    DANGER = "danger"
    TOPIC = "topic"
    URGENT = "urgent"
    POLICY = "policy"
    PAST = "past"
    FIGURATIVE = "figurative"
    HYPOTHETICAL = "hypothetical"


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
        words = tuple(map(word, tokens(text)))
        if words:
            start = 0
            if not _CUT_WORDS.isdisjoint(words[1:]):
                for place in range(1, len(words)):
                    if words[place] in _RESTARTS or words[place : place + 2] == _TURN:
                        yield Sentence(words[start:place], False, False)
                        start = place
            yield Sentence(words[start:], "?" in mark, "!" in mark)
        text = ""


CLAUSE_WORDS = frozenset({"og", "sa", "and", "so"})
"""Folded words that join the clauses of a run-on chat sentence ("og", "så"): ``clauses`` cuts
before them."""
CLAUSE_MIN = 3
"""Words a clause has at least (``clauses`` cuts no shorter piece off)."""


def clauses(message: str) -> list[Sentence]:
    """The message's sentences cut further into clauses: at commas, and before "og" or "så"
    where both pieces keep ``CLAUSE_MIN`` words ("har givet katten til min søster og skrevet
    til mor så nu er det slut"). A clause of a question is a question too."""
    result: list[Sentence] = []
    for sentence in sentences(message.replace(",", ";")):
        words = sentence.words
        start = 0
        for place in range(CLAUSE_MIN, len(words) - CLAUSE_MIN + 1):
            if words[place] in CLAUSE_WORDS and place - start >= CLAUSE_MIN:
                result.append(Sentence(words[start:place], sentence.question, False))
                start = place
        result.append(Sentence(words[start:], sentence.question, sentence.exclaims))
    return result


_RESTARTS = frozenset({"na", "nah", "btw", "forresten", "iovrigt", "ps", "anyway", "anyways"})
"""Folded words that start a new thought even where chat puts no full stop ("..., de sidder og
holder igen, nå og Birgitte er lige gået ned til søen"): a sentence is also cut before them, so
a work question's calm words never reach the news told after them."""
_TURN = ("men", "nu")
""""men nu" turns to what happens now ("mht kurset er der pladser men nu ligger Kim ..."): a
sentence is cut before it too."""
_CUT_WORDS = _RESTARTS | {_TURN[0]}


def word_of(token: str) -> str:
    """A casefolded token as the lexicon and classifier read it: hyphens and apostrophes inside
    it dropped ("peer-støtte" is one word), three or more of one letter made one, æ/ae, ø/oe,
    å/aa folded and other accents dropped (``plain``); a laughing emoji is "haha", another emoji
    itself."""
    if token in _LAUGHING:
        return "haha"
    if token in _EMOJI_WORDS:
        return _EMOJI_WORDS[token]
    joined = token.replace("-", "").replace("'", "").replace("’", "")
    return plain(_REPEATS.sub(r"\1", joined))


_LETTERS = str.maketrans({"ł": "l", "đ": "d", "ð": "d", "ı": "i", "ß": "ss", "þ": "th", "œ": "o"})


def plain(text: str) -> str:
    """Casefolded text with æ/ae/a, ø/oe/o, å/aa/a folded and every other letter's accents
    dropped ("połknęła" is "polknela", "nóż" "noz", "yardım" "yardim"): chat in Polish, Turkish,
    German or Spanish often drops them, and a message and a phrase must read alike either way."""
    if text.isascii():
        return fold(text)
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return fold("".join(char for char in decomposed if not unicodedata.combining(char)))


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
        text = plain(written.strip("-").replace("-", "").replace("'", "").replace("’", ""))
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
            folded = tuple(plain(form) for form in forms)
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
            (Group.HYPOTHETICAL, None, rules.hypothetical_phrases),
        ]
        phrases = []
        for group, situation, texts in lists:
            fuzzy = group in (Group.DANGER, Group.TOPIC)
            for text in texts:
                slots = tuple(self._word_id(word, fuzzy) for word in text.split())
                if slots:
                    phrases.append(Phrase(text, group, situation, slots))
        self.phrases = tuple(phrases)
        self._people = frozenset(
            self._word_id(f"<{name}>", False) for name in PEOPLE if name in self._classes
        )
        """Phrase-word ids of people: a figure of speech never has one inside it ("kvæle en
        beboer i" is no "kvalt i", "skåret ham ned" no "skære ned", "hængt sig op" no "hængt
        op")."""
        self._index()
        self._cache = Remembered(self._analyse)
        seen: Counter[int] = Counter()
        for text in chain((example.text for example in rules.examples), rules.ordinary):
            for sentence in sentences(text):
                seen.update(i for word in sentence.words for i in self._cache[word])
        self._by_anchor: dict[int, list[int]] = {}
        rank = {
            slot: (seen[slot], -self._specificity(slot)) for slot in range(len(self.word_atoms))
        }
        for index, phrase in enumerate(self.phrases):
            anchor = min(phrase.slots, key=rank.__getitem__)
            self._by_anchor.setdefault(anchor, []).append(index)
        self._anchors = frozenset(self._by_anchor)
        self._subject_by_anchor = {
            anchor: [i for i in indexes if self.phrases[i].group in _SUBJECT]
            for anchor, indexes in self._by_anchor.items()
        }
        self._subject_anchors = frozenset(a for a, i in self._subject_by_anchor.items() if i)
        self._may_anchor = Remembered(lambda word: bool(self._cache[word] & self._subject_anchors))
        """Word -> does it match the anchor of a danger or topic phrase? (Most sentences have
        no such word: they are done with one look-up per word.)"""
        danger_anchors = frozenset(
            anchor
            for anchor, indexes in self._by_anchor.items()
            if any(self.phrases[i].group is Group.DANGER for i in indexes)
        )
        self._may_danger = Remembered(lambda word: bool(self._cache[word] & danger_anchors))
        """Word -> does it match the anchor of a danger phrase?"""
        self._slot_sets = [frozenset(phrase.slots) for phrase in self.phrases]
        self._anchored = {
            anchor: [(i, self._slot_sets[i]) for i in indexes]
            for anchor, indexes in self._by_anchor.items()
        }
        """Anchor -> the phrases it anchors, with their phrase-word sets."""
        self._is_subject = [phrase.group in _SUBJECT for phrase in self.phrases]
        self._calm_phrases = tuple(
            p for p in self.phrases if p.group in _CALM or p.group is Group.FIGURATIVE
        )

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
        sentence: the word the examples and the knowledge base's questions match least often
        (ties: the most specific)."""
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
        if candidates is None:
            return []
        return self._resolve(*candidates, sentence.words)

    def groups(self, sentence: Sentence) -> set[Group]:
        """``summary(hits(sentence))`` by a shorter way (this runs for every sentence): the
        empty set at once when no danger or topic phrase can be in the sentence, and a cue is
        only looked for while its group is not yet found."""
        candidates = self._candidates(sentence)
        if candidates is None:
            return set()
        figurative, subject, cues = _partition(candidates[0])
        positions = candidates[1]
        figures = self._figures(figurative, positions)
        free = _free(positions, figures)
        found = [hit for phrase in subject if (hit := _find(phrase, free)) is not None]
        if not found:
            return {Group.FIGURATIVE} if figures else set()
        groups = {hit.phrase.group for hit in found}
        if figures:
            groups.add(Group.FIGURATIVE)
        danger = [hit for hit in found if hit.phrase.group is Group.DANGER]
        used = {place for hit in danger for place in hit.positions}
        first = min((hit.positions[0] for hit in danger), default=-1)
        late = _late_suppositions(cues, positions, first) if danger else set()
        for phrase in cues:
            group = phrase.group
            if group in groups or (group is Group.HYPOTHETICAL and not danger):
                continue
            hit = _find(phrase, positions)
            if hit is None:
                continue
            if group in _CALM and (
                used.intersection(hit.positions) or _negated(hit, sentence.words)
            ):
                continue
            if group is Group.POLICY and late.intersection(hit.positions):
                continue
            if group is Group.URGENT and not _near([hit, *found]):
                continue
            if group is Group.HYPOTHETICAL and hit.positions[-1] >= first:
                continue
            groups.add(group)
        return groups

    def may_be_danger(self, sentence: Sentence) -> bool:
        """Can the sentence hold a danger phrase? (False: it surely holds none; a look-up per
        word.)"""
        return any(map(self._may_danger.__getitem__, sentence.words))

    def calm(self, sentence: Sentence) -> bool:
        """Does the sentence have a calm cue (policy or past, not negated) or a figure of speech,
        whatever else is in it? (Asked only of the few sentences the classifier alone finds
        acute.)"""
        positions: dict[int, list[int]] = {}
        for place, word in enumerate(sentence.words):
            for slot in self._cache[word]:
                positions.setdefault(slot, []).append(place)
        return any(
            (hit := _find(phrase, positions)) is not None and not _negated(hit, sentence.words)
            for phrase in self._calm_phrases
        )

    def _figures(self, figurative: list[Phrase], positions: dict[int, list[int]]) -> list[Hit]:
        """The figures of speech found, but none with a person between its words."""
        if not figurative:
            return []
        people = {place for slot in self._people for place in positions.get(slot, ())}
        return [
            hit
            for phrase in figurative
            if (hit := _find(phrase, positions)) is not None
            and not people.intersection(range(hit.positions[0] + 1, hit.positions[-1]))
            - set(hit.positions)
        ]

    def _resolve(
        self, found: list[Phrase], positions: dict[int, list[int]], words: Sequence[str]
    ) -> list[Hit]:
        """The hits of candidate phrases (in file order) given where each phrase word occurs:
        figures of speech first (``_figures``); a danger or topic phrase only on words no figure
        of speech used; a calm cue (policy, past) only on words no danger phrase used, and not
        negated."""
        figurative, subject, cues = _partition(found)
        result = self._figures(figurative, positions)
        free = _free(positions, result)
        result += [hit for phrase in subject if (hit := _find(phrase, free)) is not None]
        danger = {place for h in result if h.phrase.group is Group.DANGER for place in h.positions}
        for phrase in cues:
            hit = _find(phrase, positions)
            if hit is None or (
                phrase.group in _CALM
                and (danger.intersection(hit.positions) or _negated(hit, words))
            ):
                continue
            result.append(hit)
        return result

    def _candidates(self, sentence: Sentence) -> tuple[list[Phrase], dict[int, list[int]]] | None:
        """The phrases that may be in the sentence, with where their words are; None when no
        danger or topic phrase can be. Only phrases whose anchor word is in the sentence are
        looked at, and only their words' positions are collected."""
        if not any(map(self._may_anchor.__getitem__, sentence.words)):
            return None
        per_word = list(map(self._cache.__getitem__, sentence.words))
        present = frozenset().union(*per_word)
        found = [
            i
            for anchor in present & self._anchors
            for i, slots in self._anchored[anchor]
            if slots <= present
        ]
        if not any(map(self._is_subject.__getitem__, found)):
            return None
        found.sort()
        slot_sets = self._slot_sets
        needed = self._people.union(*(slot_sets[i] for i in found))
        positions: dict[int, list[int]] = {}
        for place, ids in enumerate(per_word):
            if ids:
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
        return self._resolve(found, positions, sentence.words)


def summary(hits: Sequence[Hit]) -> set[Group]:
    """The groups of a sentence's hits as ``detector.decide`` reads them: nothing but a figure
    of speech when no danger or topic phrase was found (cues matter only beside one), and a
    supposed case (``Group.HYPOTHETICAL``) only when it comes before every danger phrase ("hvis
    en borger siger han vil tage sit liv" supposes the danger; "han står på broen, hvad gør jeg
    hvis han springer" tells it first), and a policy cue that supposes a case after the danger
    ("hvad gør jeg hvis") no calm cue."""
    groups = {hit.phrase.group for hit in hits}
    if not groups & _SUBJECT:
        return groups & {Group.FIGURATIVE}
    if Group.URGENT in groups and not _near(hits):
        groups.discard(Group.URGENT)
    if Group.HYPOTHETICAL in groups:
        danger = [h.positions[0] for h in hits if h.phrase.group is Group.DANGER]
        first = min(danger, default=-1)
        supposed = [h for h in hits if h.phrase.group is Group.HYPOTHETICAL]
        if not any(h.positions[-1] < first for h in supposed):
            groups.discard(Group.HYPOTHETICAL)
        late = {
            place for h in supposed if danger and h.positions[-1] >= first for place in h.positions
        }
        policy = [h for h in hits if h.phrase.group is Group.POLICY]
        if policy and all(late.intersection(h.positions) for h in policy):
            groups.discard(Group.POLICY)
    return groups


def _late_suppositions(
    cues: Sequence[Phrase], positions: dict[int, list[int]], first: int
) -> set[int]:
    """The words of a supposition ("hvis", "hvad gør jeg") that ends at or after the first
    danger phrase: a policy cue with such a word in it ("han står på broen, hvad gør jeg hvis han
    springer") supposes nothing about the danger told before it, so it does not make the
    sentence calm."""
    return {
        place
        for phrase in cues
        if phrase.group is Group.HYPOTHETICAL
        and (hit := _find(phrase, positions)) is not None
        and hit.positions[-1] >= first
        for place in hit.positions
    }


NEAR = 4
"""Words between a danger phrase and a "now" that still tells the danger is now."""


def _near(hits: Sequence[Hit]) -> bool:
    """Is a "now" within ``NEAR`` words of a danger or topic phrase? ("har lige taget alle
    pillerne" is now; "har lige fortalt min leder, at jeg forsøgte for ti år siden" is not.)"""
    spans = [(h.positions[0], h.positions[-1]) for h in hits if h.phrase.group in _SUBJECT]
    return any(
        start - NEAR <= hit.positions[-1] and hit.positions[0] <= end + NEAR
        for hit in hits
        if hit.phrase.group is Group.URGENT
        for start, end in spans
    )


NEGATIONS = frozenset({"ikke", "ik", "ikk", "aldrig", "ej", "not", "never", "dont", "no"})
"""Words that turn a calm cue around when they come between its words ("har det ikke godt")."""


RENEWED = frozenset({"gang"})
"""Folded words that turn a past cue right after them into now: "for første gang i fem år" is
something happening again today, not five years ago."""


def _negated(hit: Hit, words: Sequence[str]) -> bool:
    """Does a negation stand between the cue's words, not written in the cue itself? ("jeg
    har det ikke godt" is no "har det godt"; "det gik ikke godt" no "gik godt".) A past cue of
    one word is also turned around by a negation right before it ("det gør ikke engang ondt",
    "ikke tidligere", "ikke stabil"; but "ikke i mange år" is the past), and any past cue by a
    word of ``RENEWED`` right before it ("for første gang i fem år")."""
    start, end = hit.positions[0], hit.positions[-1]
    one_word = len(hit.positions) == 1 and hit.phrase.group is Group.PAST
    if one_word and start > 0 and words[start - 1] in NEGATIONS:
        return True
    if hit.phrase.group is Group.PAST and start > 0 and words[start - 1] in RENEWED:
        return True
    own = set(hit.positions)
    return any(words[place] in NEGATIONS for place in range(start + 1, end) if place not in own)


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
    it could end at (the earliest way to reach each: the nearest ``MAX_GAP + 1`` places before
    a place are looked up, earliest first)."""
    slots = phrase.slots
    first = positions.get(slots[0])
    if not first:
        return None
    if len(slots) == 1:
        return Hit(phrase, (first[0],))
    reach: dict[int, tuple[int, ...]] = {place: (place,) for place in first}
    for slot in slots[1:]:
        places = positions.get(slot)
        if not places:
            return None
        step: dict[int, tuple[int, ...]] = {}
        for place in places:
            for end in range(place - MAX_GAP - 1, place):
                chosen = reach.get(end)
                if chosen is not None:
                    step[place] = (*chosen, place)
                    break
        if not step:
            return None
        reach = step
    return Hit(phrase, reach[min(reach)])
