"""Choose the crisis check's thresholds by leave-one-author-out cross-validation.

Each author's safety examples (``knowledge/safety_examples.yaml``) are judged by a detector whose
classifier was trained on every other author's examples only; the figures are pooled over all
authors (acute recall: acute examples given status ``safety``; false alarms: non-acute examples
given status ``safety``). A detector is trained once per author, then every setting of the grid is
applied to it (the thresholds are read when a message is judged, so the training is shared).

Beside the pooled figures each setting is checked on colleagues' ordinary questions, judged by
the detector trained on all examples: the knowledge base's phrasings, ``eval.yaml``'s questions,
out-of-scope and not-crisis lines, and ``dev.yaml``'s questions (a colleague who gets the safety
text instead of an answer loses it).

The criterion (``choose``): the highest pooled cross-validated recall among the settings whose
pooled false alarms are at most ``--false-alarms-max`` and whose ordinary questions get status
``safety`` no more often than ``--phrasings-max`` (the knowledge base's phrasings) and
``--questions-max`` (eval.yaml and dev.yaml together); a tie goes to fewer false alarms. The
figures come from examples the lexicon was written after reading, so they are optimistic: only a
held-out set is evidence.

Usage: .venv/bin/python bench/safety_thresholds.py [--grid '{"ACUTE_ALONE": [0.64, 0.68]}']
       [--authors] [--false-alarms-max 0.03] [--phrasings-max 5] [--questions-max 0]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faqbot.safety.detector as decision  # noqa: E402
from faqbot import kb  # noqa: E402
from faqbot.evaluate import CrisisFigures, author_detectors, crisis_figures  # noqa: E402
from faqbot.safety import SafetyDetector, SafetyLevel  # noqa: E402

DEFAULT_GRID = {
    "ACUTE_ALONE": [0.64, 0.68, 0.72],
    "ACUTE_FROM_TOPIC": [0.4, 0.45, 0.5],
    "ACUTE_WITH_CALM": [0.7, 0.8],
}


@dataclass
class Figures:
    """One setting's figures per author and its ordinary questions given ``safety``."""

    setting: dict[str, float]
    authors: dict[str, CrisisFigures]
    phrasings: int
    questions: int

    def pooled(self) -> CrisisFigures:
        """All the authors' figures added up."""
        total = CrisisFigures("pooled")
        for own in self.authors.values():
            total.acute.update(own.acute)
            total.calm.update(own.calm)
        return total


def measure(knowledge: kb.KnowledgeBase, grid: list[dict[str, float]]) -> list[Figures]:
    """Every setting of the grid, cross-validated over the examples' authors."""
    full = SafetyDetector(knowledge.safety)
    examples = knowledge.safety.examples
    trained = author_detectors(full)
    phrasings = [phrasing for item in knowledge.items for phrasing in item.phrasings]
    evalset = kb.load_eval(knowledge.directory / "eval.yaml", knowledge)
    devset = kb.labelled_set(knowledge.asked)
    questions = [
        *(q.question for q in evalset.questions),
        *evalset.out_of_scope,
        *evalset.not_crisis,
        *(q.question for q in devset.questions),
        *devset.out_of_scope,
        *devset.uncovered,
    ]
    result = []
    for setting in grid:
        kept = {name: getattr(decision, name) for name in setting}
        for name, value in setting.items():
            setattr(decision, name, value)
        try:
            per_author = {
                author: crisis_figures(
                    author, detector, [e for e in examples if e.author == author]
                )
                for author, detector in trained.items()
            }
            result.append(
                Figures(
                    setting,
                    per_author,
                    sum(full.assess(q) is SafetyLevel.ACUTE for q in phrasings),
                    sum(full.assess(q) is SafetyLevel.ACUTE for q in questions),
                )
            )
        finally:
            for name, value in kept.items():
                setattr(decision, name, value)
    return result


def choose(
    figures: list[Figures], false_alarms_max: float, phrasings_max: int, questions_max: int
) -> Figures | None:
    """The criterion of the module docstring."""
    allowed = [
        f
        for f in figures
        if f.pooled().false_alarms <= false_alarms_max
        and f.phrasings <= phrasings_max
        and f.questions <= questions_max
    ]
    if not allowed:
        return None
    return max(allowed, key=lambda f: (caught(f.pooled()), -alarmed(f.pooled())))


def caught(figures: CrisisFigures) -> int:
    """Acute messages given status safety."""
    return figures.acute[SafetyLevel.ACUTE]


def alarmed(figures: CrisisFigures) -> int:
    """Non-acute messages given status safety."""
    return figures.calm[SafetyLevel.ACUTE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knowledge-dir", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--grid", type=json.loads, default=DEFAULT_GRID)
    parser.add_argument("--authors", action="store_true", help="each author's figures too")
    parser.add_argument("--false-alarms-max", type=float, default=0.03)
    parser.add_argument("--phrasings-max", type=int, default=5)
    parser.add_argument("--questions-max", type=int, default=0)
    args = parser.parse_args()
    names = list(args.grid)
    grid = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*args.grid.values())
    ]
    figures = measure(kb.load(args.knowledge_dir), grid)
    for f in figures:
        pooled = f.pooled()
        print(
            f"{json.dumps(f.setting)}: recall {pooled.recall:.4f} ({caught(pooled)}), "
            f"false alarms {pooled.false_alarms:.4f} ({alarmed(pooled)}); safety on "
            f"{f.phrasings} phrasings, {f.questions} eval/dev questions"
        )
        for author, own in f.authors.items() if args.authors else ():
            print(f"    {author:7s} recall {own.recall:.3f}  false alarms {own.false_alarms:.3f}")
    best = choose(figures, args.false_alarms_max, args.phrasings_max, args.questions_max)
    print(f"chosen: {json.dumps(best.setting) if best else 'none meets the limits'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
