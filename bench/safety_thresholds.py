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
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faqbot.safety.detector as decision  # noqa: E402
from faqbot import kb  # noqa: E402
from faqbot.safety import SafetyDetector, SafetyLevel  # noqa: E402

DEFAULT_GRID = {
    "ACUTE_ALONE": [0.64, 0.68, 0.72],
    "ACUTE_FROM_TOPIC": [0.4, 0.45, 0.5],
    "ACUTE_WITH_CALM": [0.7, 0.8],
}


@dataclass
class Figures:
    """One setting's pooled and per-author figures and its ordinary questions given ``safety``."""

    setting: dict[str, float]
    authors: dict[str, Counter[tuple[bool, bool]]]
    phrasings: int
    questions: int

    def pooled(self) -> Counter[tuple[bool, bool]]:
        total: Counter[tuple[bool, bool]] = Counter()
        for counts in self.authors.values():
            total.update(counts)
        return total

    @staticmethod
    def rates(counts: Counter[tuple[bool, bool]]) -> tuple[float, float]:
        """(recall, false alarms) from counts keyed (acute, given safety)."""
        acute = counts[(True, True)] + counts[(True, False)]
        calm = counts[(False, True)] + counts[(False, False)]
        return counts[(True, True)] / max(acute, 1), counts[(False, True)] / max(calm, 1)


def measure(knowledge: kb.KnowledgeBase, grid: list[dict[str, float]]) -> list[Figures]:
    """Every setting of the grid, cross-validated over the examples' authors."""
    full = SafetyDetector(knowledge.safety)
    examples = knowledge.safety.examples
    authors = sorted({e.author for e in examples if e.author})
    trained = {
        author: SafetyDetector(
            replace(knowledge.safety, examples=tuple(e for e in examples if e.author != author))
        )
        for author in authors
    }
    phrasings = [phrasing for item in knowledge.items for phrasing in item.phrasings]
    evalset = kb.load_eval(knowledge.directory / "eval.yaml", knowledge)
    devset = kb.load_dev(knowledge.directory / "dev.yaml", knowledge)
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
            per_author: dict[str, Counter[tuple[bool, bool]]] = {}
            for author, detector in trained.items():
                per_author[author] = Counter(
                    (e.acute, detector.assess(e.text) is SafetyLevel.ACUTE)
                    for e in examples
                    if e.author == author
                )
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
        if Figures.rates(f.pooled())[1] <= false_alarms_max
        and f.phrasings <= phrasings_max
        and f.questions <= questions_max
    ]
    if not allowed:
        return None
    return max(allowed, key=lambda f: (f.pooled()[(True, True)], -f.pooled()[(False, True)]))


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
        counts = f.pooled()
        recall, false_alarms = Figures.rates(counts)
        print(
            f"{json.dumps(f.setting)}: recall {recall:.4f} ({counts[(True, True)]}), "
            f"false alarms {false_alarms:.4f} ({counts[(False, True)]}); safety on "
            f"{f.phrasings} phrasings, {f.questions} eval/dev questions"
        )
        for author, own in f.authors.items() if args.authors else ():
            recall, false_alarms = Figures.rates(own)
            print(f"    {author:7s} recall {recall:.3f}  false alarms {false_alarms:.3f}")
    best = choose(figures, args.false_alarms_max, args.phrasings_max, args.questions_max)
    print(f"chosen: {json.dumps(best.setting) if best else 'none meets the limits'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
