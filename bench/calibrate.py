"""Fit the decision's calibration: P(the best-ranked item is right) as a logistic model.

Training data, all from the tuning side (never a held-out set):

* ``knowledge/eval.yaml``'s questions and out-of-scope questions, on the full matcher;
* cross-validation over the items' own phrasings: each of five folds holds out a fifth of
  every item's alternates and of the out-of-scope examples (``out_of_scope.yaml``), builds the
  matcher without them and asks them, so they are as new to it as a colleague's question.

eval.yaml alone gives an optimistic model (the knowledge base was tuned on it for long): on
the held-out set it answered wrong 0.080 where eval.yaml promised 0.029. The cross-validated
alternates are harder than a colleague's question, so the two are mixed, the alternates
together weighing as much as the eval questions; out-of-scope questions together weigh
``OUT_OF_SCOPE_SHARE`` x 2 of the in-scope ones. Prints the ``Calibration(...)`` to paste
into ``faqbot/matcher/decide.py`` and, per probability threshold, what the decision would do
on eval.yaml and on the cross-validated alternates.

Usage: .venv/bin/python bench/calibrate.py [--folds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faqbot import kb  # noqa: E402
from faqbot.matcher import Calibration, Evidence, Matcher  # noqa: E402

OUT_OF_SCOPE_SHARE = 0.15
FIELDS = [field.name for field in dataclasses.fields(Evidence)]


def without_fold(knowledge: kb.KnowledgeBase, fold: int, folds: int) -> kb.KnowledgeBase:
    items = tuple(
        dataclasses.replace(
            item,
            alternates=tuple(
                text for at, text in enumerate(item.alternates) if (at + index) % folds != fold
            ),
        )
        for index, item in enumerate(knowledge.items)
    )
    negatives = tuple(q for at, q in enumerate(knowledge.negatives) if at % folds != fold)
    return dataclasses.replace(knowledge, items=items, negatives=negatives)


def fold_questions(
    knowledge: kb.KnowledgeBase, fold: int, folds: int
) -> tuple[list[tuple[str, frozenset[str]]], list[str]]:
    questions = [
        (text, frozenset({item.id}))
        for index, item in enumerate(knowledge.items)
        for at, text in enumerate(item.alternates)
        if (at + index) % folds == fold
    ]
    negatives = [q for at, q in enumerate(knowledge.negatives) if at % folds == fold]
    return questions, negatives


@dataclasses.dataclass
class Sample:
    features: list[float]
    right: bool
    in_scope: bool
    source: str


def samples(
    matcher: Matcher, questions: list[tuple[str, frozenset[str]]], negatives: list[str], source: str
) -> list[Sample]:
    found = []
    for text, acceptable in [*questions, *((q, frozenset()) for q in negatives)]:
        evidence, ranked = matcher.assess(text)
        if evidence is None:
            continue
        right = matcher.kb.items[ranked[0][0]].id in acceptable
        features = [float(getattr(evidence, name)) for name in FIELDS]
        found.append(Sample(features, right, bool(acceptable), source))
    return found


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weighted logistic regression by Newton's method; the intercept first."""
    x = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(x.shape[1])
    penalty = l2 * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (weights * (p - y)) + penalty @ beta
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--knowledge-dir", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--dump", type=Path, default=None, help="pickle the samples here")
    args = parser.parse_args(argv)
    knowledge = kb.load(args.knowledge_dir)
    evalset = kb.load_eval(args.knowledge_dir / "eval.yaml", knowledge)
    data: list[Sample] = []
    for fold in range(args.folds):
        questions, negatives = fold_questions(knowledge, fold, args.folds)
        matcher = Matcher(without_fold(knowledge, fold, args.folds))
        data += samples(matcher, questions, negatives, "cv")
    eval_questions = [(entry.question, entry.acceptable) for entry in evalset.questions]
    data += samples(Matcher(knowledge), eval_questions, list(evalset.out_of_scope), "eval")
    if args.dump:
        import pickle

        rows = [(s.features, s.right, s.in_scope, s.source) for s in data]
        args.dump.write_bytes(pickle.dumps((FIELDS, rows)))
    x = np.asarray([s.features for s in data])
    y = np.asarray([s.right for s in data], dtype=float)
    source = np.asarray([s.source for s in data])
    in_scope = np.asarray([s.in_scope for s in data])
    weights = np.ones(len(data))
    n_eval = (in_scope & (source == "eval")).sum()
    weights[in_scope & (source == "cv")] = n_eval / max((in_scope & (source == "cv")).sum(), 1)
    weights[~in_scope] = OUT_OF_SCOPE_SHARE * 2 * n_eval / max((~in_scope).sum(), 1)
    beta = fit_logistic(x, y, weights)
    calibration = Calibration(*[round(float(b), 3) for b in beta])
    print(calibration)
    p = np.asarray([calibration.probability(Evidence(*s.features)) for s in data])
    for name in ("eval", "cv"):
        mine = source == name
        inside, outside = mine & in_scope, mine & ~in_scope
        print(f"[{name}] {inside.sum()} in scope, {outside.sum()} out of scope")
        print("  threshold  answered-right  answered-wrong  oos-answered")
        for threshold in np.arange(0.05, 0.96, 0.05):
            answered = p >= threshold
            print(
                f"  {threshold:9.2f}  {(answered & inside & (y == 1)).sum() / inside.sum():14.3f}"
                f"  {(answered & inside & (y == 0)).sum() / inside.sum():14.3f}"
                f"  {(answered & outside).sum() / max(outside.sum(), 1):12.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
