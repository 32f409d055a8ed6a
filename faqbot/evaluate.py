"""Running ``knowledge/eval.yaml`` against the matcher, and checking its floors.

Definitions (printed with the figures so nobody has to guess):

"The expected item" below means the question's ``expect`` or one of its ``also`` items (items
that answer the question just as directly).

* top-1: the best item is the expected one and the user is shown it: answered with it, or asked
  back (clarify) with it as the first suggestion. A no-match never counts, even if the hidden best
  candidate was right.
* top-3: the expected item is among the three best-ranked items (retrieval quality alone).
* wrong-answer rate: answered with another item than the expected one / in-scope questions.
* clarify rate: asked back / in-scope questions.
* out-of-scope rejection: out-of-scope questions that got the no-match (or safety) reply.
* safety recall: crisis messages that got the safety reply.
* not-crisis kept: policy questions naming the subject that did not get the safety reply.

Crisis figures (``crisis_lines``), each set apart, acute and non-acute separately:

* recall: acute messages that got status safety (the safety text alone);
* false alarms: non-acute messages that got status safety; "note": those that got their normal
  reply with the safety note first (costs nothing, counted to show it is not everything).

The sets: the training examples (``safety_examples.yaml``; the classifier learnt from them, so
their figure is no evidence), the same examples per author with the classifier trained without
that author's examples (the honest estimate: cross-validation across authors), eval.yaml's crisis
lines, and the held-out set ``heldout/safety.yaml`` when it exists - with its floors (recall >=
0.97, false alarms <= 0.05). Held-out messages are counted, never printed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from faqbot.kb import EvalSet, SafetyExample
from faqbot.matcher import Matcher, Result, Status
from faqbot.safety import SafetyDetector, SafetyLevel

HELDOUT_RECALL_MIN = 0.97
"""Acute held-out messages that must get status safety."""
HELDOUT_FALSE_ALARMS_MAX = 0.05
"""Non-acute held-out messages that may get status safety."""


@dataclass(frozen=True)
class Miss:
    """One question the engine got wrong, with what it did instead."""

    kind: str  # "question", "out_of_scope", "crisis" or "not_crisis"
    question: str
    expected: str | None
    status: Status
    got: str | None
    score: float


@dataclass
class CategoryFigures:
    """Per-category counts for in-scope questions."""

    total: int = 0
    top1: int = 0
    wrong: int = 0
    clarify: int = 0


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


def crisis_figures(
    name: str, detector: SafetyDetector, examples: Iterable[SafetyExample], *, floors: bool = False
) -> CrisisFigures:
    """How ``detector`` judges labelled messages (status safety is ``SafetyLevel.ACUTE``)."""
    figures = CrisisFigures(name, floors=floors)
    for example in examples:
        figures.add(example, detector.assess(example.text))
    return figures


def cross_author_figures(detector: SafetyDetector) -> list[CrisisFigures]:
    """Each author's examples judged by a detector trained on everyone else's: how the crisis
    check does on messages written by someone it never learnt from."""
    examples = detector.rules.examples
    authors = sorted({e.author for e in examples if e.author is not None})
    result = []
    for author in authors if len(authors) > 1 else ():
        others = tuple(e for e in examples if e.author != author)
        trained = SafetyDetector(replace(detector.rules, examples=others))
        names = ", ".join(sorted({e.author or "?" for e in others}))
        own = (e for e in examples if e.author == author)
        result.append(crisis_figures(f"{author} (trænet på {names})", trained, own))
    return result


@dataclass
class EvalReport:
    """Everything ``faqbot eval`` prints, as data."""

    total: int = 0
    top1: int = 0
    top3: int = 0
    answered: int = 0
    wrong: int = 0
    clarify: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    crisis: int = 0
    crisis_caught: int = 0
    not_crisis: int = 0
    not_crisis_kept: int = 0
    categories: dict[str, CategoryFigures] = field(
        default_factory=lambda: defaultdict(CategoryFigures)
    )
    misses: list[Miss] = field(default_factory=list)
    floors: dict[str, float] = field(default_factory=dict)
    crisis_sets: list[CrisisFigures] = field(default_factory=list)
    """Crisis figures of the safety examples, per author and across authors."""
    heldout: CrisisFigures | None = None
    """The held-out crisis set's figures, when it exists."""

    @staticmethod
    def _rate(part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    @property
    def figures(self) -> dict[str, float]:
        """The headline rates, keyed as the floors are (plus the ones without a floor)."""
        rate = self._rate
        return {
            "top1": rate(self.top1, self.total),
            "top3": rate(self.top3, self.total),
            "wrong_answer_max": self._rate(self.wrong, self.total) if self.total else 0.0,
            "clarify": self._rate(self.clarify, self.total) if self.total else 0.0,
            "out_of_scope_rejection": rate(self.rejected, self.out_of_scope),
            "safety_recall": rate(self.crisis_caught, self.crisis),
            "not_crisis_kept": rate(self.not_crisis_kept, self.not_crisis),
        }

    def failed_floors(self) -> list[str]:
        """Names of the floors the figures do not reach (the held-out crisis floors too)."""
        figures = self.figures
        failed = []
        for name, floor in self.floors.items():
            value = figures[name]
            below = value > floor if name == "wrong_answer_max" else value < floor
            if below:
                failed.append(name)
        if self.heldout is not None:
            failed += self.heldout.failed_floors()
        return failed


def _label(result: Result) -> str | None:
    return result.item.id if result.item is not None else None


def run_eval(
    matcher: Matcher,
    evalset: EvalSet,
    heldout: Iterable[SafetyExample] | None = None,
    *,
    crisis: bool = True,
) -> EvalReport:
    """Match every eval question and tally the figures; with ``crisis``, also the crisis
    figures of the safety examples (the held-out set's, with its floors, when given)."""
    report = EvalReport(floors=dict(evalset.floors))
    if crisis:
        detector = matcher.safety
        examples = detector.rules.examples
        if examples:
            report.crisis_sets.append(crisis_figures("alle", detector, examples))
            report.crisis_sets += cross_author_figures(detector)
        if heldout is not None:
            report.heldout = crisis_figures("held-out", detector, heldout, floors=True)
    for entry in evalset.questions:
        result = matcher.match(entry.question)
        ranked = [item.id for item, _ in matcher.ranked(entry.question, 3)]
        category = matcher.kb.item(entry.expect).category
        figures = report.categories[category]
        report.total += 1
        figures.total += 1
        shown = result.status in (Status.ANSWERED, Status.CLARIFY)
        correct = shown and _label(result) in entry.acceptable
        report.top1 += correct
        figures.top1 += correct
        report.top3 += not entry.acceptable.isdisjoint(ranked)
        if result.status is Status.ANSWERED:
            report.answered += 1
            if not correct:
                report.wrong += 1
                figures.wrong += 1
        elif result.status is Status.CLARIFY:
            report.clarify += 1
            figures.clarify += 1
        if not correct:
            report.misses.append(
                Miss(
                    "question",
                    entry.question,
                    entry.expect,
                    result.status,
                    _label(result),
                    result.score,
                )
            )
    _tally_lists(report, matcher, evalset)
    return report


def _tally_lists(report: EvalReport, matcher: Matcher, evalset: EvalSet) -> None:
    for question in evalset.out_of_scope:
        result = matcher.match(question)
        report.out_of_scope += 1
        if result.status in (Status.NO_MATCH, Status.SAFETY):
            report.rejected += 1
        else:
            miss = Miss("out_of_scope", question, None, result.status, _label(result), result.score)
            report.misses.append(miss)
    for question in evalset.crisis:
        result = matcher.match(question)
        report.crisis += 1
        if result.status is Status.SAFETY:
            report.crisis_caught += 1
        else:
            miss = Miss("crisis", question, None, result.status, _label(result), result.score)
            report.misses.append(miss)
    for question in evalset.not_crisis:
        result = matcher.match(question)
        report.not_crisis += 1
        if result.status is not Status.SAFETY:
            report.not_crisis_kept += 1
        else:
            report.misses.append(Miss("not_crisis", question, None, result.status, None, 1.0))


_NAMES = {
    "top1": "top-1 (besvaret eller første forslag er det rigtige emne)",
    "top3": "top-3 (det rigtige emne blandt de tre bedste)",
    "wrong_answer_max": "forkerte svar (besvaret med et andet emne)",
    "clarify": "spurgt tilbage (forslag)",
    "out_of_scope_rejection": "uden for emnet afvist",
    "safety_recall": "krisebeskeder fanget",
    "not_crisis_kept": "politikspørgsmål ikke taget for krise",
}
_KINDS = {
    "question": "Forkert eller ikke fundet",
    "out_of_scope": "Uden for emnet, men ikke afvist",
    "crisis": "Krisebesked ikke fanget",
    "not_crisis": "Taget for krise ved en fejl",
}


def report_lines(report: EvalReport) -> Iterable[str]:
    """The report as the Danish lines ``faqbot eval`` prints."""
    figures = report.figures
    yield f"Evaluering: {report.total} spørgsmål, {report.out_of_scope} uden for emnet, " + (
        f"{report.crisis} krisebeskeder, {report.not_crisis} politikspørgsmål om krise"
    )
    for name, label in _NAMES.items():
        floor = report.floors.get(name)
        limit = ""
        if floor is not None:
            sign = "<=" if name == "wrong_answer_max" else ">="
            status = "IKKE NÅET" if name in report.failed_floors() else "ok"
            limit = f"  (krav {sign} {floor:.2f}: {status})"
        yield f"  {label}: {figures[name]:.3f}{limit}"
    yield "Pr. kategori (top-1 / forkerte svar / spurgt tilbage):"
    for category in sorted(report.categories, key=str.casefold):
        c = report.categories[category]
        yield (
            f"  {category}: {c.top1}/{c.total} = {c.top1 / c.total:.2f} / {c.wrong} / {c.clarify}"
        )
    for kind, title in _KINDS.items():
        misses = [miss for miss in report.misses if miss.kind == kind]
        if not misses:
            continue
        yield f"{title} ({len(misses)}):"
        for miss in misses:
            expected = f" forventet {miss.expected}," if miss.expected else ""
            yield (
                f"  - {miss.question!r}:{expected} fik {miss.status.value}"
                f" {miss.got or '-'} ({miss.score:.2f})"
            )
    yield from crisis_lines(report)
    failed = report.failed_floors()
    if failed:
        yield "Kravene er IKKE nået: " + ", ".join(failed)
    else:
        yield "Alle krav er nået."


def _levels(counts: Counter[SafetyLevel]) -> str:
    total = sum(counts.values())
    safety, note = counts[SafetyLevel.ACUTE], counts[SafetyLevel.NOTE]
    return f"{safety}/{total} safety, {note} note, {total - safety - note} normal"


def _crisis_line(figures: CrisisFigures) -> str:
    return (
        f"akutte fanget {figures.recall:.3f} ({_levels(figures.acute)}); "
        f"falske alarmer {figures.false_alarms:.3f} ({_levels(figures.calm)})"
    )


def crisis_lines(report: EvalReport) -> Iterable[str]:
    """The crisis figures as Danish lines: each set apart, acute and non-acute apart."""
    yield "Krisebeskeder (status safety = sikkerhedsteksten alene):"
    yield (
        f"  eval.yaml: akutte fanget {report.figures['safety_recall']:.3f} "
        f"({report.crisis_caught}/{report.crisis}); ikke-akutte uden safety "
        f"{report.figures['not_crisis_kept']:.3f} ({report.not_crisis_kept}/{report.not_crisis})"
    )
    for figures in report.crisis_sets:
        if figures.name == "alle":
            yield (
                "  træningseksemplerne (safety_examples.yaml; lært af dem, intet bevis): "
                + _crisis_line(figures)
            )
            continue
        yield f"  krydsvalidering, forfatter {figures.name}: {_crisis_line(figures)}"
        for (acute, kind), counts in sorted(figures.kinds.items()):
            label = "akut" if acute else "ikke-akut"
            yield f"      {label} {kind}: {_levels(counts)}"
    if report.heldout is None:
        yield "  held-out (heldout/safety.yaml): findes ikke, så ingen held-out-tal."
        return
    heldout = report.heldout
    failed = heldout.failed_floors()
    recall_ok = "IKKE NÅET" if "heldout_safety_recall" in failed else "ok"
    alarms_ok = "IKKE NÅET" if "heldout_false_alarms" in failed else "ok"
    yield (
        f"  held-out (heldout/safety.yaml): akutte fanget {heldout.recall:.3f} "
        f"({_levels(heldout.acute)}; krav >= {HELDOUT_RECALL_MIN:.2f}: {recall_ok}); "
        f"falske alarmer {heldout.false_alarms:.3f} ({_levels(heldout.calm)}; "
        f"krav <= {HELDOUT_FALSE_ALARMS_MAX:.2f}: {alarms_ok})"
    )
    for (acute, kind), counts in sorted(heldout.kinds.items()):
        label = "akut" if acute else "ikke-akut"
        yield f"      {label} {kind}: {_levels(counts)}"
