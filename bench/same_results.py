"""Are two revisions of the matcher the same? Every signal, ranking and decision, to the last bit.

Runs this checkout's engine and another checkout's (``--base``: a directory holding that
revision's ``faqbot`` package, e.g. from ``git archive <commit> | tar -x -C DIR``) in two
processes over every question of ``knowledge/eval.yaml`` (in scope, out of scope, crisis and not
crisis) and ``knowledge/dev.yaml`` (on the full index, as the bot runs, and leave-one-author-out,
as ``faqbot eval`` scores it), and compares what each read: every item's value of every signal
and its ranking score (as raw float bits), the ranked candidates, the evidence the decisions read,
and the whole result of ``match``. A speed change must leave all of it equal.

Usage: .venv/bin/python bench/same_results.py --base /tmp/base   [--no-loao]
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def describe(knowledge_dir: Path, loao: bool) -> dict[str, Any]:
    """Everything the engine reads and decides about every question (run inside one checkout)."""
    import dataclasses

    from faqbot import kb
    from faqbot.matcher import Matcher

    knowledge = kb.load(knowledge_dir)
    evalset = kb.load_eval(knowledge_dir / "eval.yaml", knowledge)
    questions = [entry.question for entry in evalset.questions]
    questions += [*evalset.out_of_scope, *evalset.crisis, *evalset.not_crisis]
    matcher = Matcher(knowledge)

    def one(engine: Matcher, question: str) -> tuple[Any, ...]:
        query = engine.query(question)
        signals = engine.signals(query) if query.terms else {}
        evidence, outside, ranked = engine.judge(question)
        result = engine.match(question)
        return (
            {name: values.tobytes() for name, values in signals.items()},
            engine.scores(question).tobytes(),
            ranked,
            evidence and dataclasses.astuple(evidence),
            outside and dataclasses.astuple(outside),
            repr(result),
        )

    found: dict[str, Any] = {"eval.yaml": [one(matcher, q) for q in questions]}
    asked = list(knowledge.asked)
    found["dev.yaml, full index"] = [one(matcher, q.text) for q in asked]
    if loao:
        for author in knowledge.asked_authors:
            without = matcher.without_author(author)
            mine = [q.text for q in asked if q.author == author]
            found[f"dev.yaml without {author}"] = [one(without, q) for q in mine]
    return found


def run(checkout: Path, knowledge_dir: Path, loao: bool, out: Path) -> None:
    """``describe`` in a fresh interpreter that imports ``faqbot`` from ``checkout``."""
    code = (
        "import pickle, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "sys.path.insert(0, sys.argv[2]); from same_results import describe; "
        "found = describe(Path(sys.argv[3]), sys.argv[4] == '1'); "
        "Path(sys.argv[5]).write_bytes(pickle.dumps(found))"
    )
    bench = str(Path(__file__).resolve().parent)
    arguments = [str(checkout), bench, str(knowledge_dir), "1" if loao else "0", str(out)]
    subprocess.run([sys.executable, "-c", code, *arguments], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other revision's checkout")
    parser.add_argument("--knowledge-dir", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--no-loao", action="store_true", help="skip leave-one-author-out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        ours, theirs = Path(scratch) / "ours", Path(scratch) / "base"
        run(ROOT, args.knowledge_dir, not args.no_loao, ours)
        run(args.base.resolve(), args.knowledge_dir, not args.no_loao, theirs)
        mine, base = pickle.loads(ours.read_bytes()), pickle.loads(theirs.read_bytes())
    same = True
    for name, results in mine.items():
        other = base[name]
        differ = [at for at, (a, b) in enumerate(zip(results, other, strict=True)) if a != b]
        digest = hashlib.sha256(pickle.dumps(results)).hexdigest()[:12]
        verdict = "identical" if not differ else f"{len(differ)} DIFFER (first at {differ[0]})"
        print(f"{name:<28} {len(results):5d} questions  {verdict}  (sha256 {digest})")
        same &= not differ
    print("every signal, ranking and decision identical" if same else "RESULTS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
