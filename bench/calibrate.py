"""Fit the decision's calibration and thresholds on questions written by people, with a cross-
author check.

The calibration is P(the best-ranked item is right), a logistic model over the ``Evidence``
fields. It is fitted on every question of the two tuning sets: ``knowledge/eval.yaml`` (tuned on
for many rounds) and ``knowledge/dev.yaml`` (colleagues' questions by authors who never saw the
knowledge base, labelled), with their out-of-scope questions and the development set's uncovered
ones (no item is right for those); the development set's questions together weigh as much as
eval.yaml's. The matcher learns from dev.yaml (its in-scope questions are indexed as phrasings),
so each dev question's evidence is computed with the index built without its author's questions
(leave-one-author-out: as new as a colleague's next question); eval.yaml's with the full index
(it is never indexed). The thresholds are then chosen on the development set's questions alone
(eval.yaml's were tuned on for long and promise too much): the answer threshold (and the least
lead over the runner-up, ``tie``) that answers the most questions right while at most
``--wrong-cap`` of them are answered wrong (on eval.yaml's too: its floor) and at least 0.95 of
the out-of-scope ones are rejected; then the lowest clarify threshold that keeps asking back within
0.10 and rejecting 0.95 of the out-of-scope questions (on eval.yaml's too).

P(right) and these thresholds use the development authors who wrote in-scope questions too
(``mixed``): an author of hard out-of-scope questions alone would stand for far more of
colleagues' questions than such questions are.

The out-of-scope model, P(the question is outside the subject), is a second logistic model over
the ``OutsideEvidence`` fields, fitted on every question: the in-scope ones against the
out-of-scope ones (dev.yaml's, all authors', and eval.yaml's, the two kinds weighing the
same). Its threshold ``reject`` is the lowest (from 0.99 down) at which saying no costs at most
``REJECT_BUDGET`` of the in-scope questions their right answer, and as many their useful "Mente
du ...?" (asked back with a right item among the suggestions): an out-of-scope question wrongly
answered costs trust, but a colleague's question turned away costs more.

A figure from the questions the model was fitted on is no evidence, so the script also prints a
cross-author check: the whole fit and choice made without one development author's questions (in
scope, out of scope, uncovered), then measured on that author's, for each author, and pooled.
(The other authors' evidence was computed with the held-out author's questions in the index;
only their look, not their outcome, reaches the fit.)

``--knowledge-ref REF`` computes the evidence with the knowledge base as it was at git ``REF``
(the dev set read from the working tree). Alternates were written for the development set's
misses, which makes its questions look easier than a colleague's new question; its cross-author
check with the knowledge base from before them (2758523) is the stricter estimate quoted in
bench/README.md. The calibration written is fitted on the current knowledge base, the one the
bot runs with (fitted on the older one, its thresholds answered about half of the questions).

``--write`` writes the result to ``calibration.yaml`` in the knowledge directory, where the
matcher reads it.

Usage: .venv/bin/python bench/calibrate.py [--knowledge-ref REF] [--wrong-cap 0.03] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faqbot import compare, kb  # noqa: E402
from faqbot.matcher import (  # noqa: E402
    Calibration,
    Evidence,
    Matcher,
    OutOfScopeModel,
    OutsideEvidence,
    Thresholds,
)

OUT_OF_SCOPE_SHARE = 0.15
"""Out-of-scope questions together weigh this x 2 of the in-scope ones in the fit."""
REJECTED = 0.95
ASKED_BACK = 0.10
REJECT_BUDGET = 0.001
"""The out-of-scope threshold may cost at most this share of the in-scope questions their right
answer (and as many their useful suggestions)."""
FIELDS = [field.name for field in dataclasses.fields(Evidence)]
OUTSIDE = [field.name for field in dataclasses.fields(OutsideEvidence)]


@dataclasses.dataclass(frozen=True)
class Sample:
    """One question: its evidence, whether the best-ranked item is right, what kind it is
    ("in", "out" or "uncovered") and which set and author it comes from; its evidence of
    being outside the subject, and whether asking back would offer a right item."""

    features: tuple[float, ...]
    lead: float
    right: bool
    kind: str
    group: str
    outside: tuple[float, ...] = ()
    helpful: bool = False


def samples(
    matcher: Matcher, questions: Iterable[tuple[str, frozenset[str]]], kind: str, group: str
) -> list[Sample]:
    found = []
    window, most = matcher.thresholds.suggest_window, matcher.thresholds.max_suggestions
    for text, acceptable in questions:
        evidence, outside, ranked = matcher.judge(text)
        if evidence is None or outside is None:
            found.append(Sample((), 0.0, False, kind, group))
            continue
        right = matcher.kb.items[ranked[0][0]].id in acceptable
        features = tuple(float(getattr(evidence, name)) for name in FIELDS)
        suggested = [i for i, s in ranked[:most] if s >= ranked[0][1] - window]
        helpful = any(matcher.kb.items[i].id in acceptable for i in suggested)
        outside_features = tuple(float(getattr(outside, name)) for name in OUTSIDE)
        found.append(
            Sample(features, evidence.margin, right, kind, group, outside_features, helpful)
        )
    return found


KINDS = {"question": "in", "out_of_scope": "out", "uncovered": "uncovered"}
"""A labelled question's kind in dev.yaml -> its kind here."""


def collect(knowledge_dir: Path, matcher: Matcher) -> list[Sample]:
    """Every question of eval.yaml through ``matcher`` (the full index: eval.yaml is never
    indexed), and every labelled question of dev.yaml through ``matcher`` with the index built
    without its author's questions (the matcher learns from dev.yaml: a question it has indexed
    would promise too much; without its author, it is as new as a colleague's next one)."""
    evalset = kb.load_eval(knowledge_dir / "eval.yaml", matcher.kb)
    data = samples(matcher, ((q.question, q.acceptable) for q in evalset.questions), "in", "eval")
    data += samples(matcher, ((q, frozenset()) for q in evalset.out_of_scope), "out", "eval")
    for author in matcher.kb.asked_authors:
        held = matcher.without_author(author)
        for kind, name in KINDS.items():
            own = [q for q in matcher.kb.asked if q.author == author and q.kind == kind]
            right = [(q.text, frozenset(i for i in (q.expect, *q.also) if i)) for q in own]
            data += samples(held, right, name, f"dev-{author or '?'}")
    return data


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weighted logistic regression by Newton's method; the intercept first."""
    x = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(x.shape[1])
    penalty = l2 * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(60):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (weights * (p - y)) + penalty @ beta
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def calibrate(data: list[Sample]) -> Calibration:
    rows = [s for s in data if s.features]
    x = np.asarray([s.features for s in rows])
    y = np.asarray([s.right for s in rows], dtype=float)
    inside = np.asarray([s.kind == "in" for s in rows])
    fresh = np.asarray([s.group.startswith("dev-") for s in rows])
    weights = np.ones(len(rows))
    # The development set's questions together weigh as much as eval.yaml's.
    weights[inside & fresh] = (inside & ~fresh).sum() / max((inside & fresh).sum(), 1)
    weights[~inside] = OUT_OF_SCOPE_SHARE * 2 * weights[inside].sum() / max((~inside).sum(), 1)
    beta = fit_logistic(x, y, weights)
    return Calibration(*[round(float(b), 3) for b in beta])


def fit_out_of_scope(data: list[Sample]) -> OutOfScopeModel:
    """P(out of scope) over the outside evidence: the in-scope questions against the out-of-
    scope ones, the two kinds weighing the same."""
    rows = [s for s in data if s.outside and s.kind in ("in", "out")]
    x = np.asarray([s.outside for s in rows])
    y = np.asarray([s.kind == "out" for s in rows], dtype=float)
    weights = np.where(y == 1, (y == 0).sum() / max(y.sum(), 1), 1.0)
    beta = fit_logistic(x, y, weights)
    return OutOfScopeModel(*[round(float(b), 3) for b in beta])


@dataclasses.dataclass(frozen=True)
class Figures:
    right: float
    wrong: float
    asked_back: float
    rejected: float
    uncovered_unanswered: float
    top1: float
    helped: float = 0.0
    """Answered right, or asked back with a right item among the suggestions."""

    def __str__(self) -> str:
        return (
            f"answered right {self.right:.3f}, wrong {self.wrong:.3f}, asked back "
            f"{self.asked_back:.3f}, helped {self.helped:.3f}, out-of-scope rejected "
            f"{self.rejected:.3f}, uncovered not answered {self.uncovered_unanswered:.3f}, "
            f"top-1 {self.top1:.3f}"
        )


def figures(
    data: list[Sample],
    calibration: Calibration,
    thresholds: Thresholds,
    out_of_scope: OutOfScopeModel | None = None,
) -> Figures:
    """What the decision does with these questions (as ``faqbot.matcher.decide``, and the
    engine's out-of-scope rule when a model is given)."""
    counts = {"in": 0, "out": 0, "uncovered": 0}
    right = wrong = asked = helped = rejected = unanswered = first = 0
    for sample in data:
        p = calibration.probability(Evidence(*sample.features)) if sample.features else 0.0
        p = round(p, 4)
        answered = p >= thresholds.answer and sample.lead >= thresholds.tie
        clarify = not answered and p >= thresholds.clarify
        if out_of_scope is not None and sample.outside:
            outside = out_of_scope.probability(OutsideEvidence(*sample.outside))
            if outside >= thresholds.reject:
                answered = clarify = False
        counts[sample.kind] += 1
        if sample.kind == "in":
            first += sample.right
            right += answered and sample.right
            wrong += answered and not sample.right
            asked += clarify
            helped += (answered and sample.right) or (clarify and sample.helpful)
        elif sample.kind == "out":
            rejected += not answered and not clarify
        else:
            unanswered += not answered
    share = lambda part, kind: part / counts[kind] if counts[kind] else 1.0  # noqa: E731
    return Figures(
        share(right, "in"),
        share(wrong, "in"),
        share(asked, "in"),
        share(rejected, "out"),
        share(unanswered, "uncovered"),
        share(first, "in"),
        share(helped, "in"),
    )


def choose(
    data: list[Sample],
    calibration: Calibration,
    wrong_cap: float,
    asked_cap: float = ASKED_BACK,
    also: Sequence[Sample] = (),
) -> Thresholds:
    """The thresholds with the most answered right within the limits, on these questions; the
    answer threshold also keeps answered wrong within ``wrong_cap``, and the clarify threshold
    asking back within ``asked_cap`` and out-of-scope rejected at 0.95 or more, on ``also``
    (eval.yaml, whose floors they are too)."""
    best: tuple[float, Thresholds] | None = None
    for tie in (0.0, 0.02, 0.03, 0.05, 0.08):
        for answer in np.arange(0.30, 0.981, 0.01):
            candidate = Thresholds(answer=round(float(answer), 2), tie=tie, clarify=1.0)
            found = figures(data, calibration, candidate)
            within = found.wrong <= wrong_cap and found.rejected >= REJECTED
            if within and also:
                within = figures(also, calibration, candidate).wrong <= wrong_cap
            if within and (best is None or found.right > best[0] + 1e-9):
                best = (found.right, candidate)
    if best is None:
        raise SystemExit(f"no threshold keeps answered wrong <= {wrong_cap}")
    chosen = dataclasses.replace(best[1], clarify=best[1].answer)
    for clarify in np.arange(chosen.answer, 0.05, -0.01):
        candidate = dataclasses.replace(chosen, clarify=round(float(clarify), 2))
        found = figures(data, calibration, candidate)
        if found.asked_back > asked_cap or found.rejected < REJECTED:
            break
        if also:
            tuned = figures(also, calibration, candidate)
            if tuned.asked_back > asked_cap or tuned.rejected < REJECTED:
                break
        chosen = candidate
    return chosen


def choose_reject(
    data: list[Sample],
    calibration: Calibration,
    thresholds: Thresholds,
    out_of_scope: OutOfScopeModel,
    budget: float = REJECT_BUDGET,
) -> Thresholds:
    """The lowest ``reject`` (0.99 down to 0.50) at which the out-of-scope model costs at most
    ``budget`` of these in-scope questions their right answer, and at most as many their
    useful suggestions."""
    before = figures(data, calibration, thresholds)
    chosen = dataclasses.replace(thresholds, reject=1.0)
    for reject in np.arange(0.99, 0.495, -0.01):
        candidate = dataclasses.replace(thresholds, reject=round(float(reject), 2))
        after = figures(data, calibration, candidate, out_of_scope)
        lost = max(before.right - after.right, before.helped - after.helped)
        if lost > budget + 1e-9:
            break
        chosen = candidate
    return chosen


def mixed(data: list[Sample]) -> set[str]:
    """The development authors who wrote in-scope questions too: their out-of-scope share is
    a colleague's mix. An author of out-of-scope questions alone (written to be hard, close in
    words to the subject) teaches the out-of-scope model; in P(right) and the floor of 0.95
    rejected they would stand for far more of colleagues' questions than they are."""
    return {s.group for s in data if s.group.startswith("dev-") and s.kind == "in"}


def fit_and_choose(
    data: list[Sample], wrong_cap: float, asked_cap: float = ASKED_BACK
) -> tuple[Calibration, Thresholds, OutOfScopeModel]:
    """The out-of-scope model fitted on every question, the calibration on eval.yaml's and the
    ``mixed`` authors'; the thresholds chosen on those authors' (the fresh ones: eval.yaml's
    questions were tuned on for long and promise too much), ``reject`` on both sets' in-scope
    questions."""
    fresh = [s for s in data if s.group in mixed(data)] or data
    tuned = [s for s in data if s.group == "eval"]
    calibration = calibrate(tuned + fresh)
    thresholds = choose(fresh, calibration, wrong_cap, asked_cap, tuned)
    out_of_scope = fit_out_of_scope(data)
    return calibration, choose_reject(data, calibration, thresholds, out_of_scope), out_of_scope


def calibration_yaml(
    calibration: Calibration, thresholds: Thresholds, out_of_scope: OutOfScopeModel, note: str
) -> str:
    """calibration.yaml's text."""

    def numbers(model: Calibration | OutOfScopeModel) -> str:
        return ", ".join(f"{f.name}: {getattr(model, f.name)}" for f in dataclasses.fields(model))

    return (
        "# The matcher's decision for this knowledge base, written by bench/calibrate.py (do not\n"
        "# edit by hand; rerun it after large changes to the items or the matcher):\n"
        "# calibration: the logistic model of P(the best-ranked item is right) over the evidence;\n"
        "# out_of_scope: the logistic model of P(the question is outside the subject);\n"
        "# thresholds: answer at `answer` or above (leading the runner-up by `tie`), ask back at\n"
        "# `clarify` or above, else no match; no match whenever P(out of scope) >= `reject`.\n"
        f"# {note}\n"
        f"calibration: {{{numbers(calibration)}}}\n"
        f"out_of_scope: {{{numbers(out_of_scope)}}}\n"
        f"thresholds: {{answer: {thresholds.answer}, tie: {thresholds.tie}, "
        f"clarify: {thresholds.clarify}, reject: {thresholds.reject}}}\n"
    )


@contextlib.contextmanager
def features_knowledge(knowledge_dir: Path, ref: str | None) -> Iterator[kb.KnowledgeBase]:
    """The knowledge base the evidence is computed with: the working tree's, or REF's."""
    if ref is None:
        yield kb.load(knowledge_dir)
        return
    with compare.knowledge_at(ref, knowledge_dir) as old:
        yield dataclasses.replace(kb.load(old), asked=kb.load(knowledge_dir).asked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge-dir", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--knowledge-ref", default=None, help="compute the evidence at this ref")
    parser.add_argument("--wrong-cap", type=float, default=0.03)
    parser.add_argument("--asked-cap", type=float, default=ASKED_BACK)
    parser.add_argument("--write", action="store_true", help="write calibration.yaml")
    args = parser.parse_args(argv)
    with features_knowledge(args.knowledge_dir, args.knowledge_ref) as knowledge:
        data = collect(args.knowledge_dir, Matcher(knowledge))
    groups = sorted({s.group for s in data})
    calibration, thresholds, out_of_scope = fit_and_choose(data, args.wrong_cap, args.asked_cap)
    print(calibration)
    print(out_of_scope)
    print(thresholds)
    print(f"Fitted and chosen on all of them (tuning figures, no evidence; cap {args.wrong_cap}):")
    for group in groups:
        own = [s for s in data if s.group == group]
        print(f"  [{group}] {figures(own, calibration, thresholds, out_of_scope)}")
    print("Cross-author check (fitted and chosen without the author, measured on the author):")
    pooled: list[tuple[dict[str, int], Figures]] = []
    for group in groups:
        if not group.startswith("dev-"):
            continue
        own = [s for s in data if s.group == group]
        others = [s for s in data if s.group != group]
        held_calibration, held_thresholds, held_outside = fit_and_choose(
            others, args.wrong_cap, args.asked_cap
        )
        found = figures(own, held_calibration, held_thresholds, held_outside)
        pooled.append(({kind: sum(s.kind == kind for s in own) for kind in KINDS.values()}, found))
        print(
            f"  [{group}] answer {held_thresholds.answer:.2f}, tie {held_thresholds.tie:.2f}, "
            f"clarify {held_thresholds.clarify:.2f}, reject {held_thresholds.reject:.2f}: {found}"
        )
    weighed = {
        "right": "in",
        "wrong": "in",
        "asked_back": "in",
        "top1": "in",
        "helped": "in",
        "rejected": "out",
        "uncovered_unanswered": "uncovered",
    }
    mean = {
        name: sum(counts[kind] * getattr(found, name) for counts, found in pooled)
        / max(sum(counts[kind] for counts, _ in pooled), 1)
        for name, kind in weighed.items()
    }
    print(f"  [pooled over the authors' questions] {Figures(**mean)}")
    if args.write:
        note = f"Fitted with --wrong-cap {args.wrong_cap} --asked-cap {args.asked_cap}" + (
            f" --knowledge-ref {args.knowledge_ref}." if args.knowledge_ref else "."
        )
        path = args.knowledge_dir / "calibration.yaml"
        path.write_text(
            calibration_yaml(calibration, thresholds, out_of_scope, note), encoding="utf-8"
        )
        print(f"Wrote {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
