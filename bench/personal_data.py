"""How much personal data redaction removes, on sets written blind by people who never saw it.

Each set (``knowledge/heldout/personal_data.yaml`` and ``personal_data_AS.yaml``, held out;
``spent/personal_data_R.yaml``, tuned on) lists, per message, every piece of personal data as an
exact substring, and for clean messages the numbers and names that must stay. A piece counts as
removed when neither its normalised text nor, for numbers, any six of its digits in a row
survive in ``redact``'s output; an e-mail's or a username's name part, and an address's street
and number, must be gone too. Only figures are printed, never lines (a held-out set that is read
becomes a tuning set).

Usage: .venv/bin/python bench/personal_data.py [FILE ...]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.redact import normalise, redact  # noqa: E402

SETS = (
    REPO / "knowledge" / "heldout" / "personal_data.yaml",
    REPO / "knowledge" / "heldout" / "personal_data_AS.yaml",
    REPO / "knowledge" / "heldout" / "spent" / "personal_data_R.yaml",
)
_NUMBER = re.compile(r"\d[\d\s.\-/]*\d")
_STREET_NUMBER = re.compile(r"[A-ZÆØÅa-zæøå][\wæøåÆØÅ.\- ]*?\s+\d+")
_AT = re.compile(r"\s*(?:@|\(at\)|\[at\]| at |snabel-?a)\s*", re.IGNORECASE)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def leaked(kind: str, span: str, output: str) -> bool:
    """Whether a piece of personal data survives in the redacted output."""
    piece = normalise(span)
    if piece in output:
        return True
    digits = _digits(piece)
    if kind in ("cpr", "phone", "account") and len(digits) >= 6:
        numbers = [_digits(n) for n in _NUMBER.findall(output)]
        windows = {digits[i : i + 6] for i in range(len(digits) - 5)}
        return any(w in n for n in numbers for w in windows)
    if kind == "email":
        local = _AT.split(piece)[0].strip()
        return len(local) >= 3 and local.casefold() in output.casefold()
    if kind == "address":
        street = _STREET_NUMBER.search(piece)
        return street is not None and street.group(0) in output
    if kind == "username":
        name = piece.lstrip("@").split("/")[-1]
        return len(name) >= 3 and name.casefold() in output.casefold()
    return False


def figures(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    total: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    for message in data["with_data"]:
        output = redact(message["text"])
        for piece in message["data"]:
            total[piece["kind"]] += 1
            removed[piece["kind"]] += not leaked(piece["kind"], piece["span"], output)
    keeps = kept = changed = 0
    for message in data["without_data"]:
        output = redact(message["text"])
        changed += output != normalise(message["text"])
        for keep in message.get("keep", []):
            keeps += 1
            kept += normalise(keep) in output
    n, r = sum(total.values()), sum(removed.values())
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    lines = [f"{name}: pieces removed {r}/{n} = {r / n:.3f}"]
    lines += [f"  {kind}: {removed[kind]}/{total[kind]}" for kind in sorted(total)]
    lines.append(
        f"  must stay: {kept}/{keeps} kept; clean messages changed: "
        f"{changed}/{len(data['without_data'])}"
    )
    return lines


def main(argv: list[str]) -> int:
    for path in [Path(a).resolve() for a in argv] or [p for p in SETS if p.is_file()]:
        print("\n".join(figures(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
