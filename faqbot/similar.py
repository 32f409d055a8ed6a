"""Grouping similar question texts: one function for the leaders' knowledge gaps and for the
maintainers' suggestions, so both count the same "same question" the same way.

Two texts are alike when their terms (the one normaliser: stems, no stop words, synonyms) mostly
overlap: the Dice coefficient of the two term sets. Before comparing, the batch's terms are
made canonical, so a typo ("per") or a compound ("peerkollega") counts as the word it spells.
Each text joins the most similar existing group, compared with the group's first text, if that
reaches ``SIMILAR``; otherwise it starts a group. Texts without any term ("hvad så?", "???")
group only with texts that read the same after casefolding; no text is left out.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process

from faqbot.text import Normalizer

SIMILAR = 0.6
"""Dice coefficient of the term sets from which a text joins a group (the shorter text's terms
mostly found in the longer one: 2 of 3 and 3 of 4 do, 1 of 2 does not)."""
TYPO = 85.0
"""rapidfuzz ratio (0-100) from which two terms (of three letters or more) count as one word
spelled differently."""

Terms = Callable[[str], Sequence[str]]
"""Text to terms: ``Normalizer(kb.synonyms).terms``, or the plain normaliser by default."""


@dataclass(frozen=True)
class TextGroup:
    """Similar texts as one line: the most frequent wording, how often, when last."""

    text: str
    count: int
    last_asked: datetime
    wordings: tuple[tuple[str, int], ...] = field(default=())
    """Every wording with how often it came, most frequent first (``text`` is the first)."""

    @property
    def variants(self) -> tuple[str, ...]:
        """The other wordings, most frequent first."""
        return tuple(text for text, _ in self.wordings[1:])


_NOT_WORD = re.compile(r"\W+")


def _plain(text: str) -> str:
    """Casefolded words only: the key of a text that has no terms."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def same_term(a: str, b: str) -> bool:
    """Equal, the same word with a typo ("per", "peer"), or a compound of it ("peerkollega")."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and (longer.startswith(shorter) or longer.endswith(shorter)):
        return True
    return len(shorter) >= 3 and fuzz.ratio(a, b) >= TYPO


def canonical_terms(counts: Mapping[str, int]) -> dict[str, str]:
    """Each term mapped onto the first more frequent term it is ``same_term`` with (or itself).

    Terms are taken most frequent first (ties alphabetically); a term that is the same word as
    an earlier canonical term becomes that term. Typos are found with rapidfuzz's C scorer,
    compounds by bisecting the sorted canonical terms and their reversals; the tests compare
    this with the plain loop over every canonical term.
    """
    mapping: dict[str, str] = {}
    canonical: list[str] = []
    position: dict[str, int] = {}
    forwards: list[str] = []  # canonical terms of 4+ letters, sorted
    backwards: list[str] = []  # the same, reversed and sorted (for shared endings)
    for term in sorted(counts, key=lambda t: (-counts[t], t)):
        found = [position[t] for t in _compound_partners(term, forwards, backwards, position)]
        if len(term) >= 3:
            found += [
                index
                for _, score, index in process.extract(
                    term, canonical, scorer=fuzz.ratio, score_cutoff=TYPO, limit=None
                )
                if len(canonical[index]) >= 3 and score >= TYPO
            ]
        if found:
            mapping[term] = canonical[min(found)]
            continue
        mapping[term] = term
        position[term] = len(canonical)
        canonical.append(term)
        if len(term) >= 4:
            bisect.insort(forwards, term)
            bisect.insort(backwards, term[::-1])
    return mapping


def _compound_partners(
    term: str, forwards: list[str], backwards: list[str], position: Mapping[str, int]
) -> list[str]:
    """Canonical terms that ``term`` starts or ends with, or that start or end with it."""
    partners = [term[:n] for n in range(4, len(term)) if term[:n] in position]
    partners += [term[-n:] for n in range(4, len(term)) if term[-n:] in position]
    if len(term) >= 4:
        for sorted_terms, key, restore in (
            (forwards, term, False),
            (backwards, term[::-1], True),
        ):
            index = bisect.bisect_right(sorted_terms, key)
            while index < len(sorted_terms) and sorted_terms[index].startswith(key):
                found = sorted_terms[index]
                partners.append(found[::-1] if restore else found)
                index += 1
    return partners


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two sets of canonical terms."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass
class _Group:
    terms: frozenset[str]
    texts: Counter[str] = field(default_factory=Counter)
    last: datetime | None = None


def group_similar(
    texts: Iterable[tuple[datetime, str]],
    *,
    terms: Terms | None = None,
    threshold: float = SIMILAR,
) -> list[TextGroup]:
    """Group (time, text) pairs into lines of similar questions, biggest group first.

    Each line shows its most frequent wording (ties: the earliest); groups of equal size are
    ordered by their latest question, newest first. A repeat of a text's terms joins the group
    its first occurrence joined; another text joins the group whose first text it is most
    similar to (ties: the older group). The shared terms are counted from an inverted index
    rather than by comparing sets; the tests compare it with the plain all-pairs loop.
    """
    analyse = terms or _default_terms()
    entries = []
    for asked_at, raw in texts:
        text = " ".join(raw.split())
        if text:
            entries.append((asked_at, text, tuple(analyse(text))))
    mapping = canonical_terms(Counter(term for _, _, found in entries for term in set(found)))
    groups: list[_Group] = []
    exact: dict[frozenset[str] | str, _Group] = {}
    by_term: dict[str, list[int]] = defaultdict(list)
    for asked_at, text, found in entries:
        term_set = frozenset(mapping[term] for term in found)
        key: frozenset[str] | str = term_set or _plain(text) or text.casefold()
        group = exact.get(key)
        if group is None and term_set:
            shared: Counter[int] = Counter()
            for term in term_set:
                shared.update(by_term.get(term, ()))
            best = 0.0
            for index in sorted(shared):
                score = 2 * shared[index] / (len(term_set) + len(groups[index].terms))
                if score >= threshold and score > best:
                    group, best = groups[index], score
        if group is None:
            group = _Group(term_set)
            groups.append(group)
            for term in term_set:
                by_term[term].append(len(groups) - 1)
        exact[key] = group
        group.texts[text] += 1
        group.last = asked_at if group.last is None else max(group.last, asked_at)
    return _lines(groups)


def _lines(groups: Iterable[_Group]) -> list[TextGroup]:
    lines = []
    for group in groups:
        assert group.last is not None
        # Counter keeps first-seen order, and sorted is stable: ties go to the earliest wording.
        wordings = tuple(sorted(group.texts.items(), key=lambda pair: -pair[1]))
        lines.append(
            TextGroup(
                text=wordings[0][0],
                count=sum(group.texts.values()),
                last_asked=group.last,
                wordings=wordings,
            )
        )
    lines.sort(key=lambda line: (-line.count, -line.last_asked.timestamp(), line.text))
    return lines


def _default_terms() -> Terms:
    return Normalizer().terms
