"""Benchmark redaction: the cost per message of ``faqbot.redact.redact`` (issue 14).

The bot redacts every question text it stores and every log line, so its cost is paid per
message. Three kinds of input, each redacted with the question log's limit (1,000 characters):

* ordinary questions: the development set's questions (``knowledge/dev.yaml``), most without
  personal data;
* long messages with personal data: 1,000 characters of names, phone, CPR and account numbers,
  e-mail and street addresses, the worst ordinary case;
* hostile texts: long repetitive inputs built to make patterns backtrack (the limit cuts each
  to 2,000 characters before any pattern sees it).

Each figure is the best of ``--repeat`` runs (the machine may be shared), in microseconds per
message.

Usage: .venv/bin/python bench/redaction.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.questionlog import MAX_TEXT_CHARS  # noqa: E402
from faqbot.redact import redact  # noqa: E402

WITH_DATA = (
    "Min kollega Anna Hansen (cpr 010203-1234) bor på Nørregade 4, 2. th, 8000 Aarhus C og har "
    "tlf 12 34 56 78, mail anna.h snabel-a rn punktum dk, reg 1234 0012345678; peeren mads "
    "sagde det var Per der ringede fra +45 20 30 40 50 om Vesterbro 87 3 th. "
)
HOSTILE = [
    "a@" * 2048,
    "1 " * 2048,
    "Nørregade " * 300,
    "Vej " * 500 + "1",
    "Anna " * 800,
    "peeren " * 500,
    "9000 Aalborg, " * 200,
    "a . " * 1000 + "@ b . dk",
]


def questions() -> list[str]:
    data = yaml.safe_load((REPO / "knowledge" / "dev.yaml").read_text(encoding="utf-8"))
    return [entry["q"] for entry in data["questions"]]


def best_microseconds(texts: list[str], repeat: int, run: Callable[[str], str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            run(text)
        best = min(best, (time.perf_counter() - started) / len(texts))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    def run(text: str) -> str:
        return redact(text, limit=MAX_TEXT_CHARS)

    inputs = {
        "ordinary questions": questions(),
        "1,000 characters with personal data": [(WITH_DATA * 6)[:1000]] * 20,
        "hostile texts (cut to 2,000 characters)": HOSTILE,
    }
    for name, texts in inputs.items():
        cost = best_microseconds(texts, args.repeat, run)
        print(f"{name} ({len(texts)}): {cost:,.0f} µs per message")


if __name__ == "__main__":
    main()
