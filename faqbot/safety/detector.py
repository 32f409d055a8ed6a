"""Judging one message: acute, a safety note, or nothing (the design is in ``faqbot.safety``)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import chain

from faqbot.kb import SafetyExample, SafetyRules
from faqbot.safety.lexicon import (
    Group,
    Hit,
    Lexicon,
    Sentence,
    clauses,
    iter_sentences,
    sentences,
    summary,
)
from faqbot.safety.model import FUNCTION_WORDS, Bag, Classifier, Text

ACUTE_WITH_CALM = 0.7
"""A danger phrase in a sentence that reads as a question about practice, rules, training or
research, or as the past, is still acute when the classifier gives the sentence this much (or
the sentence says it is happening now); so is a sentence beside a figure of speech."""
DANGER_FLOOR = 0.03
"""A danger phrase in a sentence the classifier finds this clearly ordinary gets the note."""
ACUTE_FROM_TOPIC = 0.45
"""A sentence that only names the subject (no danger phrase, no calm cue) is acute from this."""
NOTE_FROM_TOPIC = 0.3
"""Below that, it gets the safety note from this (or when it has a calm cue)."""
ACUTE_ALONE = 0.68
"""A sentence the lexicon finds nothing in, and that is no question, is acute from this
probability..."""
NOTE_ALONE = 0.5
"""...and gets the safety note from this one..."""
ALONE_PRIOR = -0.9
"""The log-odds a sentence starts from when the classifier judges it alone (see
``SafetyDetector._alone``)."""
ALONE_WORDS_MIN = 2
"""Content words (not ``FUNCTION_WORDS``) a sentence needs for the classifier alone to judge it."""
CALM_MESSAGE = 0.3
"""...and is not acute when the whole message is below this (see ``SafetyDetector._sentences``)."""
ORDINARY_WEIGHT = 0.1
"""How much one of the knowledge base's own questions (``SafetyRules.ordinary``) counts in
training, beside a written example's 1: enough that a colleague's everyday question reads as
one, not so much that the thousands of them drown the few hundred crises."""
ORDINARY_MAX = 1500
"""The knowledge base's questions the classifier reads at most (training time grows with them)."""
IN_ORDER = 4
"""Sentences that may hold a danger phrase judged in the order written before the rest of a long
message is judged likeliest first (``SafetyDetector.assess``)."""
TOGETHER = 2
"""Sentences of one message that each only touch on danger (the note, told as a statement with
no calm cue) and together make it acute: a farewell or hopelessness spread over several
sentences ("jeg har ryddet op. katten er hos min søster nu. I skal ikke lede efter mig"), each
mild alone. Chosen by cross-validation across the examples' authors (see ``_together``)."""
TOGETHER_FROM = 0.4
"""A statement the lexicon finds nothing in counts towards ``TOGETHER`` from this probability
(taken from ``ALONE_PRIOR``) even below ``NOTE_ALONE``: "tak for alt", "så lagde han på"."""
CLAUSE_CHARS = 600
"""A message this long at most is also read clause by clause for ``TOGETHER`` (a run-on chat
message; a long one is a work message, read by its sentences)."""
CRY = "cry"
"""The class of ``safety.yaml``'s ``words`` that cry for help ("Hjælp!", "Help!", "Ratunku!"): a
message of nothing else is acute when it exclaims or repeats the cry; a bare "hjælp" may ask for
the bot's own help and gets the note (the normal reply, with where help is first)."""
SITUATION_ORDER = ("violence", "self_harm", "medical", "suicide")
"""When danger phrases of several situations tie, the first of these picks the safety text."""


class SafetyLevel(StrEnum):
    """How a message touches on danger, and so what the bot does with it."""

    ACUTE = "acute"
    """Danger now: the safety response alone, never a FAQ answer."""
    NOTE = "note"
    """Touches on danger but reads as a question: the normal reply with a short safety note."""
    NONE = "none"
    """Nothing of the kind: the normal reply."""


_RANK = {SafetyLevel.NONE: 0, SafetyLevel.NOTE: 1, SafetyLevel.ACUTE: 2}


@dataclass(frozen=True)
class SentenceJudgement:
    """Why one sentence got its level: the lexicon's findings and the classifier's probability."""

    words: tuple[str, ...]
    level: SafetyLevel
    hits: tuple[Hit, ...]
    probability: float | None


@dataclass(frozen=True)
class Judgement:
    """A message's level, the situation its safety text should fit, and every sentence's why."""

    level: SafetyLevel
    situation: str | None
    sentences: tuple[SentenceJudgement, ...] = ()
    together: tuple[int, ...] = ()
    """When no sentence is acute alone but these (indexes into ``sentences``) together make
    the message acute (``TOGETHER``)."""


def marks(sentence: Sentence) -> tuple[str, ...]:
    """The classifier's ``g:`` features: how the sentence ends."""
    found = ("question",) if sentence.question else ()
    return (*found, "exclaims") if sentence.exclaims else found


QUESTION_WORDS = frozenset(
    {"hvad", "hvem", "hvor", "hvordan", "hvornar", "hvorfor", "hvilken", "hvilket", "hvilke"}
)
"""Folded words that make a sentence they open a question, with or without a question mark."""


def asks(sentence: Sentence) -> bool:
    """Is the sentence a question: a question mark, or a question word first?"""
    return sentence.question or (bool(sentence.words) and sentence.words[0] in QUESTION_WORDS)


def decide(groups: set[Group], probability: float | None, question: bool = False) -> SafetyLevel:
    """One sentence's level from the lexicon groups found in it (``lexicon.summary``), the
    classifier's probability (None without examples to learn from: the lexicon alone decides,
    a topic getting the note) and whether it ends with a question mark.

    * Danger with a "now" near it is acute. Otherwise it gets the note when the sentence
      supposes the case ("hvis en borger siger ...") in a question or beside a calm cue; when
      it reads calm (a question about practice, rules, training or research; the past) and
      the classifier is not sure; or when the classifier finds it clearly ordinary (below
      ``DANGER_FLOOR``). Else it is acute.
    * Beside a figure of speech the rest is acute only when the classifier is sure.
    * A topic is acute from ``ACUTE_FROM_TOPIC`` unless it reads calm with no "now" near it.
    * The classifier alone (the lexicon finds nothing) decides acute only from ``ACUTE_ALONE``
      and never for a question."""
    calm = Group.POLICY in groups or Group.PAST in groups
    urgent = Group.URGENT in groups
    sure = probability if probability is not None else 0.0
    if Group.DANGER in groups:
        if urgent:
            return SafetyLevel.ACUTE
        if Group.HYPOTHETICAL in groups and (question or calm):
            return SafetyLevel.NOTE
        if sure >= ACUTE_WITH_CALM:
            return SafetyLevel.ACUTE
        if not calm and (probability is None or probability >= DANGER_FLOOR):
            return SafetyLevel.ACUTE
        return SafetyLevel.NOTE
    if Group.FIGURATIVE in groups:
        if sure >= ACUTE_WITH_CALM and not question:
            return SafetyLevel.ACUTE
        topic = Group.TOPIC in groups
        return SafetyLevel.NOTE if topic or sure >= NOTE_ALONE else SafetyLevel.NONE
    if Group.TOPIC in groups:
        if (urgent or not calm) and sure >= ACUTE_FROM_TOPIC:
            return SafetyLevel.ACUTE
        if sure >= ACUTE_WITH_CALM and not question:
            return SafetyLevel.ACUTE
        if calm or probability is None or probability >= NOTE_FROM_TOPIC:
            return SafetyLevel.NOTE
        return SafetyLevel.NONE
    if sure >= ACUTE_ALONE and not question:
        return SafetyLevel.ACUTE
    return SafetyLevel.NOTE if sure >= NOTE_ALONE else SafetyLevel.NONE


class SafetyDetector:
    """Decides whether a message is about acute danger, touches on it, or neither."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        self.response = rules.response
        self.lexicon, self.classifier = _build(rules)
        self.cries = frozenset(
            word
            for name, members in rules.words
            if name == CRY
            for member in members
            for sentence in sentences(member)
            for word in sentence.words
        )

    def _cry(self, message: str) -> SafetyLevel | None:
        """A message that is a cry for help and nothing else: acute when exclaimed or repeated
        ("Help!", "hjælp hjælp"), else the note; None for any other message (only a short one
        is read)."""
        if not self.cries or len(message) > 60:
            return None
        parts = sentences(message)
        words = [word for sentence in parts for word in sentence.words]
        if not words or not all(word in self.cries for word in words):
            return None
        if len(words) > 1 or any(sentence.exclaims for sentence in parts):
            return SafetyLevel.ACUTE
        return SafetyLevel.NOTE

    def judge(self, message: str) -> Judgement:
        """The message's level and situation, with each sentence's reasons. Never raises."""
        cry = self._cry(message)
        if cry is not None:
            return Judgement(cry, None, ())
        judged = tuple(
            SentenceJudgement(sentence.words, level, tuple(hits), probability)
            for sentence, hits, probability, level in self._sentences(message)
        )
        level = max((s.level for s in judged), key=_RANK.__getitem__, default=SafetyLevel.NONE)
        situation = None
        if level is SafetyLevel.ACUTE:
            situation = _situation(s for s in judged if s.level is SafetyLevel.ACUTE)
            return Judgement(level, situation, judged)
        parts = sentences(message)
        together = tuple(
            number
            for number, (sentence, judgement) in enumerate(zip(parts, judged, strict=True))
            if self._uneasy(
                sentence, summary(judgement.hits), judgement.level, judgement.probability
            )
        )
        if len(together) >= TOGETHER:
            return Judgement(SafetyLevel.ACUTE, None, judged, together)
        if self._together_in_clauses(message, parts):
            return Judgement(SafetyLevel.ACUTE, None, judged)
        return Judgement(level, situation, judged)

    def assess(self, message: str) -> SafetyLevel:
        """The message's safety level: ``judge``'s, by the shorter way (this runs before every
        answer, and a message may be 4,096 characters long): the lexicon only tells the groups
        a sentence's level needs; the sentences that may hold a danger phrase are judged first,
        then the rest with a topic phrase, and the first acute one ends the search; the
        classifier reads the sentences without a danger or topic phrase only when none of those
        is acute."""
        cry = self._cry(message)
        if cry is not None:
            return cry
        level = SafetyLevel.NONE
        parts = []
        alone = False
        uneasy = 0
        later = []
        postponed = []

        def danger_first() -> Iterator[Sentence]:
            """The sentences that may hold a danger phrase: the first ``IN_ORDER`` of them as
            the message is split (most messages are done there), then the rest of the message
            split at once and its danger sentences the classifier leans most towards acute
            first; the others wait in ``postponed`` (read by ``chain`` once these are done)."""
            split = iter_sentences(message)
            seen = 0
            for sentence in split:
                parts.append(sentence)
                if not self.lexicon.may_be_danger(sentence):
                    postponed.append(sentence)
                    continue
                yield sentence
                seen += 1
                if seen == IN_ORDER:
                    break
            rest: list[Sentence] = []
            for sentence in split:
                parts.append(sentence)
                (rest if self.lexicon.may_be_danger(sentence) else postponed).append(sentence)
            rest.sort(key=self._lean, reverse=True)
            yield from rest

        for sentence in chain(danger_first(), postponed):
            groups = self.lexicon.groups(sentence)
            if not groups & _SUBJECT:
                later.append((sentence, groups))
                continue
            found = self._subject_level(sentence, groups)
            if found is SafetyLevel.ACUTE:
                return found
            if found is SafetyLevel.NOTE:
                level = found
                uneasy += self._uneasy(sentence, groups, found)
        for sentence, groups in later:
            probability = self._probability(sentence)
            found = self._level(sentence, groups, probability)
            if found is SafetyLevel.ACUTE:
                alone = True
                break  # the message is now acute or, if it reads calm, gets the note
            if found is SafetyLevel.NOTE:
                level = found
            uneasy += self._uneasy(sentence, groups, found, probability)
        if alone:
            return SafetyLevel.NOTE if len(parts) > 1 and self._calm(parts) else SafetyLevel.ACUTE
        if uneasy >= TOGETHER or self._together_in_clauses(message, parts):
            return SafetyLevel.ACUTE
        return level

    def _together_in_clauses(self, message: str, parts: Sequence[Sentence]) -> bool:
        """``TOGETHER`` counted over the clauses of a short message of statements (no
        question, no calm cue, no figure of speech anywhere), one of them with a danger or
        topic phrase the lexicon knows: a farewell told in one run-on
        chat sentence ("har givet katten til min søster og skrevet til mor så nu er det
        slut") adds up like one told in several."""
        if len(message) > CLAUSE_CHARS or any(map(asks, parts)):
            return False
        pieces = clauses(message)
        if len(pieces) <= len(parts) or len(pieces) < TOGETHER:
            return False
        for sentence in parts:
            if self.lexicon.groups(sentence) & _QUIET or self.lexicon.calm(sentence):
                return False
        count = 0
        named = False
        for clause in pieces:
            groups = self.lexicon.groups(clause)
            probability = self._probability(clause)
            level = self._level(clause, groups, probability)
            if level is SafetyLevel.ACUTE:
                level = SafetyLevel.NOTE
            uneasy = self._uneasy(clause, groups, level, probability)
            count += uneasy
            named = named or (uneasy and bool(groups & _SUBJECT))
        return count >= TOGETHER and named

    def _uneasy(
        self,
        sentence: Sentence,
        groups: set[Group],
        level: SafetyLevel,
        probability: float | None = None,
    ) -> bool:
        """Does the sentence count towards ``TOGETHER``: the note (or, with nothing the lexicon
        knows, a probability from ``TOGETHER_FROM``), told as a statement (no question) with no
        calm cue (policy, past, a supposed case, a figure of speech)?"""
        if (
            level is SafetyLevel.NONE
            and not groups
            and probability is not None
            and not self._says_little(sentence)
            and self._alone(probability) >= TOGETHER_FROM
        ):
            level = SafetyLevel.NOTE
        if level is not SafetyLevel.NOTE or asks(sentence) or groups & _QUIET:
            return False
        return bool(groups & _SUBJECT) or not self.lexicon.calm(sentence)

    def _sentences(
        self, message: str
    ) -> list[tuple[Sentence, list[Hit], float | None, SafetyLevel]]:
        """Each sentence with its hits, probability and level. A sentence the lexicon finds
        nothing in is acute by the classifier alone only when the whole message does not read
        calm to it (below ``CALM_MESSAGE``): a statement that gives context before an ordinary
        question ("Han har lige fået nøglekort. Hvad mangler han ellers?") gets the note."""
        parts = sentences(message)
        result = []
        alone = False
        for sentence in parts:
            hits = self.lexicon.hits(sentence)
            probability = self._probability(sentence)
            level = self._level(sentence, summary(hits), probability)
            result.append((sentence, hits, probability, level))
            alone = alone or (level is SafetyLevel.ACUTE and not _subject(hits))
        if alone and len(parts) > 1 and self._calm(parts):
            result = [
                (sentence, hits, probability, SafetyLevel.NOTE)
                if level is SafetyLevel.ACUTE and not _subject(hits)
                else (sentence, hits, probability, level)
                for sentence, hits, probability, level in result
            ]
        return result

    def _level(
        self, sentence: Sentence, groups: set[Group], probability: float | None
    ) -> SafetyLevel:
        """One sentence's level: ``decide``'s, with a sentence that opens with a question word
        read as a question (chat drops the question mark: "hvem har taget min kop"), and the
        classifier alone never making a sentence acute that reads as the past, as a question
        about practice or as a figure of speech ("sidste vinter fandt vi en borger i sneen, han
        overlevede"; "jeg kunne myrde en pizza"). Nor does it judge a sentence of fewer than
        ``ALONE_WORDS_MIN`` content words none of which the lexicon knows ("Hej!", "Godmorgen!"):
        a greeting says too little ("Hjælp!" is still judged)."""
        if not groups and probability is not None:
            probability = 0.0 if self._says_little(sentence) else self._alone(probability)
        level = decide(groups, probability, asks(sentence))
        if level is SafetyLevel.ACUTE and not groups & _SUBJECT and self.lexicon.calm(sentence):
            return SafetyLevel.NOTE
        return level

    def _subject_level(self, sentence: Sentence, groups: set[Group]) -> SafetyLevel:
        """``_level`` of a sentence with a danger or topic phrase, the classifier asked only
        when ``decide`` needs it: not for danger said to happen now, danger supposed in a
        question or beside a calm cue, or a topic beside a calm cue (``decide`` gives those
        their level whatever the probability)."""
        if self.classifier.trained and Group.FIGURATIVE not in groups:
            urgent = Group.URGENT in groups
            calm = Group.POLICY in groups or Group.PAST in groups
            if Group.DANGER in groups:
                if urgent:
                    return SafetyLevel.ACUTE
                if Group.HYPOTHETICAL in groups and (calm or asks(sentence)):
                    return SafetyLevel.NOTE
            elif calm and not urgent and asks(sentence):
                return SafetyLevel.NOTE
        return self._level(sentence, groups, self._probability(sentence))

    def _says_little(self, sentence: Sentence) -> bool:
        """Fewer than ``ALONE_WORDS_MIN`` content words, none of them a word of the lexicon."""
        content = [word for word in sentence.words if word not in FUNCTION_WORDS]
        known = self.lexicon.word_ids
        return len(content) < ALONE_WORDS_MIN and not any(known(word) for word in content)

    def _alone(self, probability: float) -> float:
        """The probability of a sentence the lexicon finds nothing in, with the classifier's
        bias replaced by ``ALONE_PRIOR``: what the words themselves say, not how many acute and
        ordinary examples happen to be written (the learnt bias moves with that balance, and
        with it every everyday statement's probability)."""
        if probability <= 0.0 or probability >= 1.0:
            return probability
        z = math.log(probability / (1.0 - probability)) - self.classifier.bias + ALONE_PRIOR
        return 1.0 / (1.0 + math.exp(-z))

    def _calm(self, parts: Sequence[Sentence]) -> bool:
        """Does the message, read as one text, look calm to the classifier?"""
        words = tuple(word for sentence in parts for word in sentence.words)
        question = ("question",) if any(sentence.question for sentence in parts) else ()
        return self.classifier.probability(words, question) < CALM_MESSAGE

    def _lean(self, sentence: Sentence) -> float:
        """How far the classifier's word weights lean a sentence towards acute (no pairs, no
        scaling: only to judge the likeliest sentences first)."""
        return self.classifier.lean(sentence.words)

    def _probability(self, sentence: Sentence) -> float | None:
        if not self.classifier.trained:
            return None
        return self.classifier.probability(sentence.words, marks(sentence))

    def situation(self, message: str) -> str | None:
        """The situation whose safety text fits an acute message (None: the general text)."""
        return self.judge(message).situation

    def is_crisis(self, message: str) -> bool:
        """True when the message must get the safety response alone."""
        return self.assess(message) is SafetyLevel.ACUTE


_SUBJECT = frozenset({Group.DANGER, Group.TOPIC})
_QUIET = frozenset({Group.POLICY, Group.PAST, Group.FIGURATIVE, Group.HYPOTHETICAL})


def _subject(hits: Iterable[Hit]) -> bool:
    """Did the lexicon find a danger or topic phrase?"""
    return any(hit.phrase.group in _SUBJECT for hit in hits)


def _situation(acute: Iterable[SentenceJudgement]) -> str | None:
    """The situation named in most acute sentences (by their danger phrases); a tie goes to the
    first in ``SITUATION_ORDER`` (a cut that bleeds is self-harm before it is medical)."""
    counts: Counter[str] = Counter(
        situation
        for sentence in acute
        for situation in {
            hit.phrase.situation
            for hit in sentence.hits
            if hit.phrase.group is Group.DANGER and hit.phrase.situation
        }
    )
    if not counts:
        return None
    most = max(counts.values())
    return next(name for name in SITUATION_ORDER if counts[name] == most)


def bags(examples: Sequence[SafetyExample]) -> list[Bag]:
    """The classifier's view of labelled messages: each sentence's words and marks."""
    return [
        Bag(
            tuple(Text(sentence.words, marks(sentence)) for sentence in sentences(example.text)),
            example.acute,
        )
        for example in examples
    ]


def ordinary_bags(texts: Sequence[str]) -> list[Bag]:
    """The classifier's view of the knowledge base's own questions: not acute. At most
    ``ORDINARY_MAX`` of them, evenly spread, each standing for the ones skipped (weighing
    ``ORDINARY_WEIGHT`` times the step), so a large knowledge base trains in the same time."""
    step = max(1, math.ceil(len(texts) / ORDINARY_MAX))
    return [
        Bag(tuple(Text(s.words, marks(s)) for s in sentences(text)), False, ORDINARY_WEIGHT * step)
        for text in texts[::step]
    ]


@lru_cache(maxsize=8)
def _build(rules: SafetyRules) -> tuple[Lexicon, Classifier]:
    """The lexicon and the trained classifier for these rules (built once per rules)."""
    lexicon = Lexicon(rules)
    examples = bags(rules.examples)
    if not examples:
        return lexicon, Classifier([])
    return lexicon, Classifier([*examples, *ordinary_bags(rules.ordinary)])
