"""Comparing two eval runs, so a maintainer sees what an edit changed.

A run is reduced to a ``Snapshot``: its figures (whatever ``EvalReport.figures`` holds) and each
eval question's outcome ("right", or what the engine did instead). Two snapshots compare figure by
figure and question by question; a snapshot can be saved as JSON (``faqbot eval --save``) and
compared later. ``knowledge_at`` checks a git ref's knowledge directory out into a temporary
directory, so the old knowledge base can be evaluated with the current engine: the difference is
then the knowledge edit's alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any

from faqbot.kb import EvalSet

RIGHT = "rigtigt"
"""The outcome of a question the engine got right."""
SNAPSHOT_FORMAT = 1


class CompareError(Exception):
    """The baseline cannot be read; the message is one sentence."""


@dataclass(frozen=True)
class Snapshot:
    """An eval run as data: figures by name, and the outcome of each (kind, question)."""

    label: str
    figures: Mapping[str, float]
    outcomes: Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class Change:
    """A question whose outcome differs between the two runs (None: not in that run)."""

    kind: str
    question: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Comparison:
    before: Snapshot
    after: Snapshot
    changes: tuple[Change, ...]

    @property
    def figure_names(self) -> list[str]:
        """Every figure either run has, in the order the newer run gives them."""
        names = list(self.after.figures)
        return names + [name for name in self.before.figures if name not in names]


def _value(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _eval_lists(evalset: EvalSet) -> Iterator[tuple[str, Sequence[str]]]:
    """Every list of the eval set by the kind its misses carry: "question" for ``questions``,
    the field's own name for each list of texts (out_of_scope, crisis, ...)."""
    for entry in fields(evalset):
        value = getattr(evalset, entry.name)
        if entry.name == "questions":
            yield "question", [question.question for question in value]
        elif isinstance(value, tuple) and all(isinstance(text, str) for text in value):
            yield entry.name, value


def snapshot(report: Any, evalset: EvalSet, label: str) -> Snapshot:
    """The figures and per-question outcomes of one ``run_eval`` report.

    Read generically: ``report.figures`` (a mapping of names to numbers) and ``report.misses``
    (each with ``kind``, ``question``, ``status`` and ``got``); every eval question that is not
    a miss is right.
    """
    outcomes: dict[tuple[str, str], str] = {}
    for kind, questions in _eval_lists(evalset):
        for question in questions:
            outcomes[(kind, question)] = RIGHT
    for miss in report.misses:
        got = getattr(miss, "got", None)
        outcome = _value(miss.status) + (f" {got}" if got else "")
        outcomes[(_value(miss.kind), miss.question)] = outcome
    figures = {str(name): float(value) for name, value in dict(report.figures).items()}
    return Snapshot(label, figures, outcomes)


def compare(before: Snapshot, after: Snapshot) -> Comparison:
    """Every question whose outcome changed, was added or was removed, in eval order."""
    changes = []
    keys = list(after.outcomes) + [key for key in before.outcomes if key not in after.outcomes]
    for key in keys:
        old, new = before.outcomes.get(key), after.outcomes.get(key)
        if old != new:
            changes.append(Change(key[0], key[1], old, new))
    return Comparison(before, after, tuple(changes))


_KIND_LABELS = {
    "question": "spørgsmål",
    "out_of_scope": "uden for emnet",
    "crisis": "krisebesked",
    "not_crisis": "politikspørgsmål",
    "uncovered": "ikke dækket",
}


def comparison_lines(comparison: Comparison) -> Iterator[str]:
    """The comparison as the Danish lines ``faqbot eval --compare`` and ``suggest --apply``
    print: each figure before and after, then each changed question."""
    before, after = comparison.before, comparison.after
    yield f"Tal: {before.label} -> {after.label}"
    for name in comparison.figure_names:
        old, new = before.figures.get(name), after.figures.get(name)
        if old is None or new is None:
            shown = "-" if old is None else f"{old:.3f}"
            yield f"  {name}: {shown} -> {'-' if new is None else f'{new:.3f}'}"
            continue
        shift = round(new, 3) - round(old, 3)  # the change between the figures as printed
        delta = "" if round(shift, 3) == 0 else f" ({shift:+.3f})"
        yield f"  {name}: {old:.3f} -> {new:.3f}{delta}"
    changes = comparison.changes
    if not changes:
        yield "Ingen eval-spørgsmål har fået et andet udfald."
        return
    yield f"Eval-spørgsmål med et andet udfald ({len(changes)}):"
    for change in changes:
        was = change.before if change.before is not None else f"(ikke i {before.label})"
        now = change.after if change.after is not None else f"(ikke i {after.label})"
        kind = _KIND_LABELS.get(change.kind, change.kind)
        yield f"  - {kind} {change.question!r}: {was} -> {now}"


def save_snapshot(path: Path, saved: Snapshot) -> None:
    """Write a snapshot as JSON (``faqbot eval --save FILE``)."""
    data = {
        "format": SNAPSHOT_FORMAT,
        "figures": dict(saved.figures),
        "outcomes": [
            {"kind": kind, "question": question, "outcome": outcome}
            for (kind, question), outcome in saved.outcomes.items()
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_snapshot(path: Path) -> Snapshot:
    """Read a snapshot written by ``save_snapshot``; ``CompareError`` if it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("unknown format")
        figures = {str(name): float(value) for name, value in data["figures"].items()}
        outcomes = {
            (str(entry["kind"]), str(entry["question"])): str(entry["outcome"])
            for entry in data["outcomes"]
        }
    except (OSError, UnicodeDecodeError) as error:
        raise CompareError(f"cannot read {path}: {error}.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CompareError(
            f"{path} is not a baseline saved by 'faqbot eval --save FILE'."
        ) from None
    return Snapshot(path.name, figures, outcomes)


def _git(arguments: Iterable[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, check=False)
    except OSError:
        raise CompareError("git is not installed, so a git ref cannot be compared.") from None


def _first_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "git failed"


@contextlib.contextmanager
def knowledge_at(ref: str, knowledge_dir: Path) -> Iterator[Path]:
    """The knowledge directory as it is at git ``ref``, in a temporary directory (removed after).

    ``git archive`` reads the committed files only; nothing in the working tree changes.
    """
    directory = Path(knowledge_dir).resolve()
    if not directory.is_dir():
        raise CompareError(f"the knowledge directory {knowledge_dir} does not exist.")
    top = _git(["rev-parse", "--show-toplevel"], directory)
    if top.returncode != 0:
        raise CompareError(
            f"{knowledge_dir} is not in a git repository; compare with a file saved by "
            "'faqbot eval --save FILE' instead."
        )
    root = Path(top.stdout.decode("utf-8").strip())
    inside = directory.relative_to(root.resolve()).as_posix()
    archive = _git(["archive", "--format=tar", ref, "--", inside or "."], root)
    if archive.returncode != 0:
        raise CompareError(
            f"git cannot read {inside or 'the repository'} at {ref!r}: "
            f"{_first_line(archive.stderr)}."
        )
    with tempfile.TemporaryDirectory(prefix="faqbot-compare-") as temporary:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tar.extractall(temporary, filter="data")
            else:  # git's own archive of the repository's files
                tar.extractall(temporary)
        yield Path(temporary) / inside
