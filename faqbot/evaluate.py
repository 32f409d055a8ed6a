"""Running an evaluation set against the matcher, and checking its floors.

Two kinds of set, always reported apart and named: the tuning set (``knowledge/eval.yaml``,
which the engine was tuned on: its figures are no evidence of how the bot does on new
questions) and held-out sets (``knowledge/heldout/questions.yaml``, written blind and never
tuned on).

Definitions (printed with the figures so nobody has to guess). "Right" means the question's
``expect`` item or one of its ``also`` items (items that answer it just as directly).

* answered right: answered with a right item / in-scope questions.
* answered wrong: answered with another item / in-scope questions.
* asked back: a clarify ("Mente du ...?") / in-scope questions (the rest got no answer).
* out-of-scope rejected: out-of-scope questions that got the no-match (or safety) reply.
* top-1 / top-3: a right item is the best-ranked one / among the three best (ranking alone,
  whatever the decision).
* uncovered not answered: questions no item answers (held-out sets) that got no answer.
* safety recall: crisis messages that got the safety reply; not-crisis kept: policy questions
  naming the subject that did not.

The crisis check has figures of its own (``run_crisis``, ``crisis_lines``), each set apart and
acute and non-acute apart: recall (acute messages that got status safety, the safety text alone)
and false alarms (non-acute messages that got status safety), with how many got the note (their
normal reply with the safety note first: costs nothing). The sets: the training examples
(``safety_examples.yaml``; learnt from, so no evidence), each author's examples judged by a
classifier trained on the other authors' only (cross-validation across authors: the honest
estimate), eval.yaml's crisis lines, and the held-out crisis set ``heldout/safety.yaml`` when it
exists, with its floors (recall >= 0.97, false alarms <= 0.05); its messages are counted, never
printed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace

from faqbot.kb import EvalSet, SafetyExample, labelled_set
from faqbot.matcher import Matcher, Result, Status
from faqbot.safety import SafetyDetector, SafetyLevel

HELDOUT_RECALL_MIN = 0.97
"""Acute held-out crisis messages that must get status safety."""
HELDOUT_FALSE_ALARMS_MAX = 0.05
"""Non-acute held-out crisis messages that may get status safety."""


@dataclass(frozen=True)
class Miss:
    """One question the engine got wrong, with what it did instead."""

    kind: str  # "question", "uncovered", "out_of_scope", "crisis" or "not_crisis"
    question: str
    expected: str | None
    status: Status
    got: str | None
    score: float


@dataclass
class CategoryFigures:
    """Per-category counts for in-scope questions."""

    total: int = 0
    right: int = 0
    wrong: int = 0
    clarify: int = 0


@dataclass
class EvalReport:
    """Everything ``faqbot eval`` prints for one set, as data."""

    name: str = "eval.yaml"
    """The set the figures come from (``eval.yaml`` is the tuning set)."""
    total: int = 0
    right: int = 0
    top1: int = 0
    top3: int = 0
    answered: int = 0
    wrong: int = 0
    clarify: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    uncovered: int = 0
    uncovered_unanswered: int = 0
    crisis: int = 0
    crisis_caught: int = 0
    not_crisis: int = 0
    not_crisis_kept: int = 0
    categories: dict[str, CategoryFigures] = field(
        default_factory=lambda: defaultdict(CategoryFigures)
    )
    misses: list[Miss] = field(default_factory=list)
    floors: dict[str, float] = field(default_factory=dict)
    how: str = ""
    """How the figures were taken, when not with the full index (Danish, printed in the heading)."""

    @staticmethod
    def _rate(part: int, whole: int, empty: float = 1.0) -> float:
        return part / whole if whole else empty

    @property
    def figures(self) -> dict[str, float]:
        """The headline rates, keyed as the floors are (plus the ones without a floor)."""
        rate = self._rate
        return {
            "answered_right": rate(self.right, self.total),
            "wrong_answer_max": rate(self.wrong, self.total, 0.0),
            "asked_back_max": rate(self.clarify, self.total, 0.0),
            "out_of_scope_rejection": rate(self.rejected, self.out_of_scope),
            "top1": rate(self.top1, self.total),
            "top3": rate(self.top3, self.total),
            "uncovered_unanswered": rate(self.uncovered_unanswered, self.uncovered),
            "safety_recall": rate(self.crisis_caught, self.crisis),
            "not_crisis_kept": rate(self.not_crisis_kept, self.not_crisis),
        }

    def failed_floors(self) -> list[str]:
        """Names of the floors the figures do not reach (a ``_max`` floor is a ceiling)."""
        figures = self.figures
        return [
            name
            for name, floor in self.floors.items()
            if (figures[name] > floor if name.endswith("_max") else figures[name] < floor)
        ]


def _label(result: Result) -> str | None:
    return result.item.id if result.item is not None else None


def run_eval(matcher: Matcher, evalset: EvalSet, name: str = "eval.yaml") -> EvalReport:
    """Match every question of the set and tally the figures."""
    report = EvalReport(name=name, floors=dict(evalset.floors))
    for entry in evalset.questions:
        result = matcher.match(entry.question)
        ranked = [item.id for item, _ in matcher.ranked(entry.question, 3)]
        figures = report.categories[matcher.kb.item(entry.expect).category]
        report.total += 1
        figures.total += 1
        report.top1 += bool(ranked) and ranked[0] in entry.acceptable
        report.top3 += not entry.acceptable.isdisjoint(ranked)
        right = result.status is Status.ANSWERED and _label(result) in entry.acceptable
        if result.status is Status.ANSWERED:
            report.answered += 1
            report.right += right
            figures.right += right
            report.wrong += not right
            figures.wrong += not right
        elif result.status is Status.CLARIFY:
            report.clarify += 1
            figures.clarify += 1
        if not right:
            report.misses.append(_miss("question", entry.question, entry.expect, result))
    _tally_lists(report, matcher, evalset)
    return report


_COUNTED = [f.name for f in fields(EvalReport) if f.type == "int"]
"""The report's counts (added up over authors)."""


def run_eval_by_author(
    matcher: Matcher, name: str = "dev.yaml"
) -> tuple[EvalReport, dict[str | None, EvalReport]]:
    """The labelled questions the matcher learns from (dev.yaml) judged honestly, leave-one-
    author-out: each author's questions matched with the index built without that author's
    (as new to the matcher as a colleague's next question). The pooled report, and each
    author's."""
    how = "hver forfatters spørgsmål mod et indeks uden forfatterens egne: leave-one-author-out"
    pooled = EvalReport(name=name, how=how)
    parts: dict[str | None, EvalReport] = {}
    for author in matcher.kb.asked_authors:
        own = labelled_set(q for q in matcher.kb.asked if q.author == author)
        part = run_eval(matcher.without_author(author), own, name)
        parts[author] = part
        for counted in _COUNTED:
            setattr(pooled, counted, getattr(pooled, counted) + getattr(part, counted))
        for category, figures in part.categories.items():
            into = pooled.categories[category]
            into.total += figures.total
            into.right += figures.right
            into.wrong += figures.wrong
            into.clarify += figures.clarify
        pooled.misses += part.misses
    return pooled, parts


def _miss(kind: str, question: str, expected: str | None, result: Result) -> Miss:
    return Miss(kind, question, expected, result.status, _label(result), result.score)


def _tally_lists(report: EvalReport, matcher: Matcher, evalset: EvalSet) -> None:
    for question in evalset.uncovered:
        result = matcher.match(question)
        report.uncovered += 1
        if result.status is Status.ANSWERED:
            report.misses.append(_miss("uncovered", question, None, result))
        else:
            report.uncovered_unanswered += 1
    for question in evalset.out_of_scope:
        result = matcher.match(question)
        report.out_of_scope += 1
        if result.status in (Status.NO_MATCH, Status.SAFETY):
            report.rejected += 1
        else:
            report.misses.append(_miss("out_of_scope", question, None, result))
    for question in evalset.crisis:
        result = matcher.match(question)
        report.crisis += 1
        if result.status is Status.SAFETY:
            report.crisis_caught += 1
        else:
            report.misses.append(_miss("crisis", question, None, result))
    for question in evalset.not_crisis:
        result = matcher.match(question)
        report.not_crisis += 1
        if result.status is not Status.SAFETY:
            report.not_crisis_kept += 1
        else:
            report.misses.append(Miss("not_crisis", question, None, result.status, None, 1.0))


_NAMES = {
    "answered_right": "besvaret rigtigt",
    "wrong_answer_max": "besvaret forkert",
    "asked_back_max": "spurgt tilbage (forslag)",
    "out_of_scope_rejection": "uden for emnet afvist",
    "top1": "top-1 (det rigtige emne rangeret først)",
    "top3": "top-3 (det rigtige emne blandt de tre bedste)",
    "uncovered_unanswered": "udækkede spørgsmål ikke besvaret",
    "safety_recall": "krisebeskeder fanget",
    "not_crisis_kept": "politikspørgsmål ikke taget for krise",
}
_COUNTS = {
    "answered_right": "total",
    "wrong_answer_max": "total",
    "asked_back_max": "total",
    "out_of_scope_rejection": "out_of_scope",
    "top1": "total",
    "top3": "total",
    "uncovered_unanswered": "uncovered",
    "safety_recall": "crisis",
    "not_crisis_kept": "not_crisis",
}
_KINDS = {
    "question": "Forkert eller ikke besvaret",
    "uncovered": "Udækket, men besvaret",
    "out_of_scope": "Uden for emnet, men ikke afvist",
    "crisis": "Krisebesked ikke fanget",
    "not_crisis": "Taget for krise ved en fejl",
}


def report_lines(report: EvalReport, misses: bool = True) -> Iterable[str]:
    """The report as the Danish lines ``faqbot eval`` prints; every figure names its set."""
    figures, failed, tag = report.figures, report.failed_floors(), f"[{report.name}]"
    parts = [
        f"{count} {what}"
        for count, what in (
            (report.total, "spørgsmål"),
            (report.uncovered, "udækkede"),
            (report.out_of_scope, "uden for emnet"),
            (report.crisis, "krisebeskeder"),
            (report.not_crisis, "politikspørgsmål om krise"),
        )
        if count
    ]
    how = f" ({report.how})" if report.how else ""
    yield f"Evaluering {tag}: " + ", ".join(parts) + how
    for name, label in _NAMES.items():
        whole = getattr(report, _COUNTS[name])
        if not whole:
            continue
        floor = report.floors.get(name)
        limit = ""
        if floor is not None:
            sign = "<=" if name.endswith("_max") else ">="
            limit = f"  (krav {sign} {floor:.2f}: {'IKKE NÅET' if name in failed else 'ok'})"
        yield f"  {tag} {label}: {figures[name]:.3f} af {whole}{limit}"
    if not misses:
        return
    yield f"Pr. kategori {tag} (besvaret rigtigt / forkert / spurgt tilbage):"
    for category in sorted(report.categories, key=str.casefold):
        c = report.categories[category]
        share = c.right / c.total
        yield f"  {category}: {c.right}/{c.total} = {share:.2f} / {c.wrong} / {c.clarify}"
    for kind, title in _KINDS.items():
        found = [miss for miss in report.misses if miss.kind == kind]
        if not found:
            continue
        yield f"{title} ({len(found)}):"
        for miss in found:
            expected = f" forventet {miss.expected}," if miss.expected else ""
            yield (
                f"  - {miss.question!r}:{expected} fik {miss.status.value}"
                f" {miss.got or '-'} ({miss.score:.2f})"
            )
    if failed:
        yield f"Kravene {tag} er IKKE nået: " + ", ".join(failed)
    elif report.floors:
        yield f"Alle krav {tag} er nået."


# --------------------------------------------------------------------------------------------
# The crisis check
# --------------------------------------------------------------------------------------------


@dataclass
class CrisisFigures:
    """One set of labelled crisis messages: how many got status safety, the note, or neither."""

    name: str
    acute: Counter[SafetyLevel] = field(default_factory=Counter)
    calm: Counter[SafetyLevel] = field(default_factory=Counter)
    kinds: dict[tuple[bool, str], Counter[SafetyLevel]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    floors: bool = False
    """The held-out floors apply."""

    def add(self, example: SafetyExample, level: SafetyLevel) -> None:
        (self.acute if example.acute else self.calm)[level] += 1
        self.kinds[(example.acute, example.kind)][level] += 1

    @property
    def recall(self) -> float:
        """Acute messages that got status safety."""
        total = sum(self.acute.values())
        return self.acute[SafetyLevel.ACUTE] / total if total else 1.0

    @property
    def false_alarms(self) -> float:
        """Non-acute messages that got status safety."""
        total = sum(self.calm.values())
        return self.calm[SafetyLevel.ACUTE] / total if total else 0.0

    def failed_floors(self) -> list[str]:
        if not self.floors:
            return []
        failed = []
        if self.recall < HELDOUT_RECALL_MIN:
            failed.append("heldout_safety_recall")
        if self.false_alarms > HELDOUT_FALSE_ALARMS_MAX:
            failed.append("heldout_false_alarms")
        return failed


@dataclass
class CrisisReport:
    """The crisis check's figures: the examples, per author, and the held-out set."""

    sets: list[CrisisFigures] = field(default_factory=list)
    """All the safety examples, then each author's with the classifier trained without them."""
    heldout: CrisisFigures | None = None
    """The held-out crisis set's figures, when it exists."""
    ordinary: Counter[SafetyLevel] = field(default_factory=Counter)
    """How ordinary questions (eval.yaml's questions and out_of_scope) were judged."""
    ordinary_safety: list[str] = field(default_factory=list)
    """The ordinary questions that got status safety (each one a colleague without an answer)."""

    def failed_floors(self) -> list[str]:
        return self.heldout.failed_floors() if self.heldout is not None else []


def crisis_figures(
    name: str, detector: SafetyDetector, examples: Iterable[SafetyExample], *, floors: bool = False
) -> CrisisFigures:
    """How ``detector`` judges labelled messages (status safety is ``SafetyLevel.ACUTE``)."""
    figures = CrisisFigures(name, floors=floors)
    for example in examples:
        figures.add(example, detector.assess(example.text))
    return figures


def author_detectors(detector: SafetyDetector) -> dict[str, SafetyDetector]:
    """For each author of the examples (when there are two or more): a detector like
    ``detector`` whose classifier was trained on every other author's examples only."""
    examples = detector.rules.examples
    authors = sorted({e.author for e in examples if e.author is not None})
    return {
        author: SafetyDetector(
            replace(detector.rules, examples=tuple(e for e in examples if e.author != author))
        )
        for author in (authors if len(authors) > 1 else ())
    }


def cross_author_figures(detector: SafetyDetector) -> list[CrisisFigures]:
    """Each author's examples judged by a detector trained on everyone else's: how the crisis
    check does on messages written by someone it never learnt from."""
    result = []
    for author, trained in author_detectors(detector).items():
        names = ", ".join(sorted({e.author or "?" for e in trained.rules.examples}))
        own = (e for e in detector.rules.examples if e.author == author)
        result.append(crisis_figures(f"{author} (trænet på {names})", trained, own))
    return result


def run_crisis(
    detector: SafetyDetector,
    heldout: Iterable[SafetyExample] | None = None,
    ordinary: Iterable[str] = (),
) -> CrisisReport:
    """The crisis figures of the safety examples (all, and per author across authors), of
    the held-out crisis set when given (with its floors), and of ordinary questions."""
    report = CrisisReport()
    for question in ordinary:
        level = detector.assess(question)
        report.ordinary[level] += 1
        if level is SafetyLevel.ACUTE:
            report.ordinary_safety.append(question)
    examples = detector.rules.examples
    if examples:
        report.sets.append(crisis_figures("alle", detector, examples))
        report.sets += cross_author_figures(detector)
    if heldout is not None:
        report.heldout = crisis_figures("held-out", detector, heldout, floors=True)
    return report


def _levels(counts: Counter[SafetyLevel]) -> str:
    total = sum(counts.values())
    safety, note = counts[SafetyLevel.ACUTE], counts[SafetyLevel.NOTE]
    return f"{safety}/{total} safety, {note} note, {total - safety - note} normal"


def _crisis_line(figures: CrisisFigures) -> str:
    return (
        f"akutte fanget {figures.recall:.3f} ({_levels(figures.acute)}); "
        f"falske alarmer {figures.false_alarms:.3f} ({_levels(figures.calm)})"
    )


def _kind_lines(figures: CrisisFigures) -> Iterable[str]:
    for (acute, kind), counts in sorted(figures.kinds.items()):
        yield f"      {'akut' if acute else 'ikke-akut'} {kind}: {_levels(counts)}"


def crisis_lines(crisis: CrisisReport, evaluation: EvalReport | None = None) -> Iterable[str]:
    """The crisis figures as Danish lines: each set apart, acute and non-acute apart."""
    yield "Krisebeskeder (status safety = sikkerhedsteksten alene):"
    if evaluation is not None and evaluation.crisis:
        rates = evaluation.figures
        yield (
            f"  {evaluation.name}: akutte fanget {rates['safety_recall']:.3f} "
            f"({evaluation.crisis_caught}/{evaluation.crisis}); ikke-akutte uden safety "
            f"{rates['not_crisis_kept']:.3f} "
            f"({evaluation.not_crisis_kept}/{evaluation.not_crisis})"
        )
    if crisis.ordinary:
        yield f"  almindelige spørgsmål (eval.yaml): {_levels(crisis.ordinary)}"
        yield from (f"      safety: {question}" for question in crisis.ordinary_safety)
    for figures in crisis.sets:
        if figures.name == "alle":
            yield (
                "  træningseksemplerne (safety_examples.yaml; lært af dem, intet bevis): "
                + _crisis_line(figures)
            )
            continue
        yield f"  krydsvalidering, forfatter {figures.name}: {_crisis_line(figures)}"
        yield from _kind_lines(figures)
    heldout = crisis.heldout
    if heldout is None:
        yield "  held-out (heldout/safety.yaml): findes ikke, så ingen held-out-tal."
        return
    failed = heldout.failed_floors()
    recall_ok = "IKKE NÅET" if "heldout_safety_recall" in failed else "ok"
    alarms_ok = "IKKE NÅET" if "heldout_false_alarms" in failed else "ok"
    yield (
        f"  held-out (heldout/safety.yaml): akutte fanget {heldout.recall:.3f} "
        f"({_levels(heldout.acute)}; krav >= {HELDOUT_RECALL_MIN:.2f}: {recall_ok}); "
        f"falske alarmer {heldout.false_alarms:.3f} ({_levels(heldout.calm)}; "
        f"krav <= {HELDOUT_FALSE_ALARMS_MAX:.2f}: {alarms_ok})"
    )
    yield from _kind_lines(heldout)
    if failed:
        yield "Kravene [held-out krise] er IKKE nået: " + ", ".join(failed)
    else:
        yield "Alle krav [held-out krise] er nået."
