"""The maintainers' suggestions: from what colleagues asked to proposals for the knowledge base.

From the question log of the last N days (its redacted stored texts only):

* **alternates**: questions that were answered, or resolved by picking a suggestion under "Mente
  du …?", with no thumbs down on that item, and not already close to one of its phrasings;
* **gaps**: similar unanswered questions about the subject grouped into one draft item each,
  with how often they came and the items closest to them now;
* **confusions**: pairs of items people keep choosing between under "Mente du …?".

``suggestion_files`` writes them as YAML, one file per item file they belong in, every line
with its count as a comment. ``apply_alternates`` inserts the alternates into the item files as
new lines after each item's last alternate, so nothing else in the file changes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rapidfuzz import fuzz, process

from faqbot.kb import KnowledgeBase, phrasing_key
from faqbot.matcher import Matcher, Status
from faqbot.questionlog import LogLocation, SuggestionRow, connect, log_exists, suggestion_rows
from faqbot.settings import KeepText
from faqbot.similar import TextGroup, group_similar
from faqbot.text import Normalizer, words

CLOSE = 90.0
"""rapidfuzz ratio (0-100) of two phrasing keys from which a question counts as already written:
a proposal that close to one of the item's phrasings adds nothing."""
MAX_ALTERNATE_CHARS = 300
"""A longer question is a story, not a phrasing to match on: it is not proposed."""
MIN_CONFUSIONS = 2
"""A pair of items is a confusion when people chose between them at least this often."""
NEW_ITEMS_FILE = "items/nye-emner.yaml"
"""Where a gap goes when no existing item is close to it."""
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
_MARKER = re.compile(r"\[[^\[\]\s]{2,20}\]")
"""A redaction marker ("[CPR-nr.]", "[bruger]"): such a text names a person, not a topic."""


class SuggestError(Exception):
    """The suggestions cannot be made or applied; the message is one sentence."""


def utc_now() -> datetime:
    """The current moment (tests replace it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Alternate:
    """A proposed new phrasing for an item, with how the question went each time."""

    item_id: str
    text: str
    answered: int
    picked: int

    @property
    def count(self) -> int:
        return self.answered + self.picked


@dataclass(frozen=True)
class Gap:
    """Similar unanswered questions: a draft item, and the items closest to it now."""

    group: TextGroup
    closest: tuple[str, ...]


@dataclass(frozen=True)
class Confusion:
    """Two items people chose between under "Mente du …?", and how often."""

    first: str
    second: str
    count: int


LEFT_OUT_REASONS = {
    "thumbs_down": "fik 👎 på svaret",
    "close": "ligner allerede en formulering af emnet",
    "other_item": "er allerede en formulering af et andet emne",
    "eval": "er eval-spørgsmål (eval.yaml skal forblive en ærlig test)",
    "personal": "indeholder en anonymiseret personoplysning",
    "too_long": f"er over {MAX_ALTERNATE_CHARS} tegn (for lange til en formulering)",
    "safety": "handler om fare (dem svarer kriseteksten)",
    "off_topic": "var uden svar, men handler ikke om emnet (nævner fx ikke peer)",
    "now_answered": "var uden svar, men besvares nu",
}
"""Why a stored text was not proposed, as the summary says it."""


@dataclass(frozen=True)
class Suggestions:
    """Everything ``faqbot suggest`` proposes for one period."""

    start: datetime
    end: datetime
    keep_text: KeepText
    alternates: tuple[Alternate, ...]
    gaps: tuple[Gap, ...]
    confusions: tuple[Confusion, ...]
    left_out: Mapping[str, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return round((self.end - self.start) / timedelta(days=1))


# --------------------------------------------------------------------------------------------
# Reading the log
# --------------------------------------------------------------------------------------------


async def read_suggestions(
    database: LogLocation,
    matcher: Matcher,
    *,
    days: int,
    keep_text: KeepText,
    eval_questions: Iterable[str] = (),
    now: datetime | None = None,
) -> Suggestions:
    """The suggestions from the log at ``database`` for the last ``days`` days."""
    if days < 1:
        raise SuggestError(f"the suggestions need at least 1 day, got {days}.")
    if not log_exists(database):
        raise SuggestError(
            f"there is no question log at {database} yet; it is created when the bot answers "
            "its first question."
        )
    end = (now or utc_now()).astimezone(UTC)
    start = end - timedelta(days=days)
    db = await connect(database)
    try:
        rows = await suggestion_rows(db, start, end)
    finally:
        await db.close()
    return suggest(
        rows, matcher, start=start, end=end, keep_text=keep_text, eval_questions=eval_questions
    )


def suggest(
    rows: Sequence[SuggestionRow],
    matcher: Matcher,
    *,
    start: datetime,
    end: datetime,
    keep_text: KeepText,
    eval_questions: Iterable[str] = (),
) -> Suggestions:
    """The suggestions from logged rows (the knowledge base is ``matcher.kb``)."""
    left_out: Counter[str] = Counter()
    if keep_text is not KeepText.ALL:  # texts the policy does not keep are not used
        keeps = ("clarify", "no_match") if keep_text is KeepText.UNANSWERED else ()
        rows = [row if row.status in keeps else _without_text(row) for row in rows]
    alternates = _alternates(rows, matcher, set(map(phrasing_key, eval_questions)), left_out)
    gaps = _gaps(rows, matcher, left_out)
    return Suggestions(
        start=start,
        end=end,
        keep_text=keep_text,
        alternates=tuple(alternates),
        gaps=tuple(gaps),
        confusions=tuple(_confusions(rows, matcher.kb)),
        left_out=dict(left_out),
    )


def _without_text(row: SuggestionRow) -> SuggestionRow:
    return SuggestionRow(row.asked_at, row.status, row.item_id, row.picks, row.voted_down, None)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _resolved(row: SuggestionRow) -> tuple[str, str] | None:
    """(item, how) for a question that was answered or resolved by its last pick."""
    if row.status == "answered" and row.item_id:
        return row.item_id, "answered"
    if row.status == "clarify" and row.picks:
        return row.picks[-1], "picked"
    return None


def _alternates(
    rows: Sequence[SuggestionRow],
    matcher: Matcher,
    eval_keys: set[str],
    left_out: Counter[str],
) -> list[Alternate]:
    kb = matcher.kb
    owners = {phrasing_key(p): item.id for item in kb.items for p in item.phrasings}
    own_keys = {item.id: [phrasing_key(p) for p in item.phrasings] for item in kb.items}
    # key -> item -> [answered, picked]; key -> wording -> count
    tallies: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    wordings: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        resolved = _resolved(row) if row.text else None
        if resolved is None or row.text is None:
            continue
        item_id, how = resolved
        if kb.get_item(item_id) is None:  # removed from the knowledge base since
            continue
        if item_id in row.voted_down:
            left_out["thumbs_down"] += 1
            continue
        text = _clean(row.text)
        key = phrasing_key(text)
        if not key:
            continue
        if _MARKER.search(text):
            left_out["personal"] += 1
            continue
        if len(text) > MAX_ALTERNATE_CHARS:
            left_out["too_long"] += 1
            continue
        tallies[key][item_id][0 if how == "answered" else 1] += 1
        wordings[key][text] += 1
    proposals: dict[str, list[Alternate]] = defaultdict(list)
    for key, per_item in tallies.items():
        # One text, one item: the one it went to most often (ties: the first in the file).
        order = {item.id: index for index, item in enumerate(kb.items)}
        item_id, (answered, picked) = min(
            per_item.items(), key=lambda pair: (-sum(pair[1]), order[pair[0]])
        )
        count = sum(sum(tally) for tally in per_item.values())
        owner = owners.get(key)
        if owner is not None and owner != item_id:
            left_out["other_item"] += count
        elif owner is not None or process.extractOne(
            key, own_keys[item_id], scorer=fuzz.ratio, score_cutoff=CLOSE
        ):
            left_out["close"] += count
        elif key in eval_keys:
            left_out["eval"] += count
        else:
            text = _first_most_common(wordings[key])
            if matcher.match(text).status is Status.SAFETY:
                left_out["safety"] += count
                continue
            proposals[item_id].append(Alternate(item_id, text, answered, picked))
    result: list[Alternate] = []
    for item in kb.items:
        result.extend(_merge_close(proposals.get(item.id, [])))
    return result


def _first_most_common(counts: Counter[str]) -> str:
    """The most frequent wording; ties go to the one seen first."""
    return max(counts, key=lambda text: counts[text])


def _merge_close(proposals: list[Alternate]) -> list[Alternate]:
    """Near-identical proposals for one item as one (the most frequent wording), most asked
    first."""
    proposals = sorted(proposals, key=lambda a: (-a.count, a.text))
    merged: list[Alternate] = []
    for proposal in proposals:
        key = phrasing_key(proposal.text)
        for index, kept in enumerate(merged):
            if fuzz.ratio(key, phrasing_key(kept.text)) >= CLOSE:
                merged[index] = Alternate(
                    kept.item_id,
                    kept.text,
                    kept.answered + proposal.answered,
                    kept.picked + proposal.picked,
                )
                break
        else:
            merged.append(proposal)
    return sorted(merged, key=lambda a: (-a.count, a.text))


def _subject_terms(matcher: Matcher) -> frozenset[str]:
    normalizer = Normalizer(matcher.kb.synonyms)
    return frozenset(
        term for phrase in matcher.kb.subject for term in normalizer.terms(phrase) if len(term) >= 3
    )


def _gaps(rows: Sequence[SuggestionRow], matcher: Matcher, left_out: Counter[str]) -> list[Gap]:
    kb = matcher.kb
    normalizer = Normalizer(kb.synonyms)
    subject = _subject_terms(matcher)
    negatives = [phrasing_key(text) for text in kb.negatives]
    unanswered: list[tuple[datetime, str]] = []
    for row in rows:
        if row.text is None:
            continue
        if not (row.status == "no_match" or (row.status == "clarify" and not row.picks)):
            continue
        text = _clean(row.text)
        key = phrasing_key(text)
        if not key:
            continue
        terms = normalizer.terms(text)
        named = not subject or any(s in term for term in terms for s in subject)
        if not named or process.extractOne(key, negatives, scorer=fuzz.ratio, score_cutoff=CLOSE):
            left_out["off_topic"] += 1
            continue
        status = matcher.match(text).status
        if status is Status.SAFETY:
            left_out["safety"] += 1
        elif status is Status.ANSWERED:
            left_out["now_answered"] += 1
        else:
            unanswered.append((row.asked_at, text))
    return [
        Gap(group, tuple(item.id for item, _ in matcher.ranked(group.text, 3)))
        for group in group_similar(unanswered, terms=normalizer.terms)
    ]


def _confusions(rows: Sequence[SuggestionRow], kb: KnowledgeBase) -> list[Confusion]:
    """Pairs among the first suggestion and the items picked, once per question."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row.status != "clarify" or not row.picks:
            continue
        chosen = {*row.picks, *([row.item_id] if row.item_id else [])}
        present = sorted(item_id for item_id in chosen if kb.get_item(item_id) is not None)
        for index, first in enumerate(present):
            for second in present[index + 1 :]:
                counts[(first, second)] += 1
    return [
        Confusion(first, second, count)
        for (first, second), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count >= MIN_CONFUSIONS
    ]


# --------------------------------------------------------------------------------------------
# The YAML files
# --------------------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    day = moment.astimezone(LOCAL_TIME).date()
    return f"{day.day}.{day.month}.{day.year}"


def keep_text_note(keep_text: KeepText) -> str | None:
    """What the text policy means for the suggestions (None when every text is kept)."""
    if keep_text is KeepText.ALL:
        return None
    if keep_text is KeepText.UNANSWERED:
        return (
            "FAQBOT_KEEP_TEXT=unanswered: besvarede spørgsmål gemmes uden tekst, så nye "
            'formuleringer kommer kun fra spørgsmål, hvor nogen valgte et forslag under "Mente '
            'du …?". Med FAQBOT_KEEP_TEXT=all kommer de besvarede med.'
        )
    return (
        "FAQBOT_KEEP_TEXT=none: ingen spørgsmålstekster gemmes, så der kan kun foreslås "
        "forvekslinger."
    )


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _times(count: int) -> str:
    return "1 gang" if count == 1 else f"{count} gange"


def _origin(alternate: Alternate) -> str:
    parts = []
    if alternate.answered:
        parts.append(f"{alternate.answered} besvaret")
    if alternate.picked:
        parts.append(f"{alternate.picked} valgt under Mente du")
    return f"{_times(alternate.count)}: {', '.join(parts)}"


def _wrap(text: str, prefix: str = "# ", width: int = 100) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(prefix) + len(line) + 1 + len(word) > width:
            lines.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(prefix + line)
    return lines


def _new_id(text: str, taken: set[str]) -> str:
    slug = "-".join(words(text)[:6]) or "emne"
    slug = re.sub(r"[^a-z0-9-]+", "", slug).strip("-") or "emne"
    candidate, number = f"nyt-{slug}", 2
    while candidate in taken:
        candidate, number = f"nyt-{slug}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _target(kb: KnowledgeBase, item_id: str) -> str:
    """The item's file relative to the knowledge directory ("items/ledelse.yaml")."""
    path = kb.item_files.get(item_id)
    if path is None:
        return NEW_ITEMS_FILE
    try:
        return path.relative_to(kb.directory).as_posix()
    except ValueError:
        return f"items/{path.name}"


def suggestion_files(suggestions: Suggestions, kb: KnowledgeBase) -> dict[str, str]:
    """The proposals as YAML, by the item file they belong in (relative to the knowledge
    directory), in file order. Each file is a valid YAML list: paste its entries or apply them."""
    sections: dict[str, list[list[str]]] = defaultdict(list)
    for confusion in suggestions.confusions:
        lines = [
            f"# Forveksling: {confusion.first} og {confusion.second} (valgt imellem "
            f'{_times(confusion.count)} under "Mente du …?").',
            "# Gør spørgsmålene tydeligere forskellige, eller flyt formuleringer til det emne,",
            "# hvis svar passer.",
        ]
        targets = dict.fromkeys((_target(kb, confusion.first), _target(kb, confusion.second)))
        for target in targets:
            sections[target].append(lines)
    by_item: dict[str, list[Alternate]] = defaultdict(list)
    for alternate in suggestions.alternates:
        by_item[alternate.item_id].append(alternate)
    for item in kb.items:
        proposals = by_item.get(item.id)
        if not proposals:
            continue
        lines = [
            f"# Nye formuleringer til: {item.question}",
            f"- id: {item.id}",
            "  alternates:",
            *(f"    - {_quote(a.text)}  # {_origin(a)}" for a in proposals),
        ]
        sections[_target(kb, item.id)].append(lines)
    taken = {item.id for item in kb.items}
    for gap in suggestions.gaps:
        group = gap.group
        target = _target(kb, gap.closest[0]) if gap.closest else NEW_ITEMS_FILE
        category = kb.item(gap.closest[0]).category if gap.closest else ""
        closest = ", ".join(gap.closest) if gap.closest else "ingen"
        lines = [
            f"# Videnshul: {_times(group.count)} uden svar, senest {_day(group.last_asked)}.",
            f"# Nærmeste emner nu: {closest}.",
            "# Et udkast: skriv svaret med egne ord ud fra en af guiderne, angiv kilden, og",
            "# tilføj eval-spørgsmål i eval.yaml.",
        ]
        lines += [
            f"- id: {_new_id(group.text, taken)}",
            f"  category: {_quote(category)}",
            f"  question: {_quote(group.text)}  # {_times(group.wordings[0][1])}",
        ]
        if len(group.wordings) > 1:
            lines.append("  alternates:")
            lines += [f"    - {_quote(text)}  # {_times(n)}" for text, n in group.wordings[1:]]
        lines += ['  answer: ""', "  sources:", '    - source: ""', '      section: ""']
        sections[target].append(lines)
    files = {}
    for target in sorted(sections):
        header = [
            f"# faqbot suggest: forslag til {target}",
            f"# Fra spørgeloggen {_period(suggestions)}; kun de gemte, anonymiserede tekster.",
            "# Kommentaren efter hver linje: hvor mange gange det blev spurgt.",
        ]
        note = keep_text_note(suggestions.keep_text)
        if note:
            header += _wrap(note)
        body = "\n\n".join("\n".join(lines) for lines in sections[target])
        files[target] = "\n".join(header) + "\n\n" + body + "\n"
    return files


def _period(suggestions: Suggestions) -> str:
    days = "1 dag" if suggestions.days == 1 else f"{suggestions.days} dage"
    return f"{_day(suggestions.start)}–{_day(suggestions.end)} ({days})"


def _number(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def summary_lines(suggestions: Suggestions) -> list[str]:
    """What was found and what was left out, in Danish."""
    items = len({a.item_id for a in suggestions.alternates})
    lines = [
        f"Forslag fra spørgeloggen {_period(suggestions)}: "
        f"{_number(len(suggestions.alternates), 'ny formulering', 'nye formuleringer')} til "
        f"{_number(items, 'emne', 'emner')}, "
        f"{_number(len(suggestions.gaps), 'videnshul', 'videnshuller')}, "
        f"{_number(len(suggestions.confusions), 'forveksling', 'forvekslinger')}."
    ]
    note = keep_text_note(suggestions.keep_text)
    if note:
        lines.append(note)
    for reason, label in LEFT_OUT_REASONS.items():
        count = suggestions.left_out.get(reason, 0)
        if count:
            lines.append(f"Ikke foreslået: {count} spørgsmål {label}.")
    return lines


# --------------------------------------------------------------------------------------------
# Applying alternates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """The alternates written into one item file."""

    path: Path
    added: tuple[Alternate, ...]
    original: str
    """The file's text before, so a failed check can put it back."""


def _line_after(node: yaml.Node) -> int:
    """The index of the first line after ``node`` (a trailing comment stays on its line)."""
    end = node.end_mark
    return end.line if end.column == 0 else end.line + 1


def _insertion(
    lines: Sequence[str], entry: yaml.MappingNode, texts: Sequence[str], item_id: str
) -> tuple[int, list[str]]:
    """Where the new alternates go in one item, and the lines to put there (no newline)."""
    pairs = {
        key.value: (key, value) for key, value in entry.value if isinstance(key, yaml.ScalarNode)
    }
    quoted = [_quote(text) for text in texts]
    if "alternates" not in pairs:
        key, value = pairs.get("question") or pairs["id"]
        indent = " " * key.start_mark.column
        return _line_after(value), [f"{indent}alternates:", *(f"{indent}  - {q}" for q in quoted)]
    key, value = pairs["alternates"]
    if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
        indent = " " * (key.start_mark.column + 2)
        return key.end_mark.line + 1, [f"{indent}- {q}" for q in quoted]
    if not isinstance(value, yaml.SequenceNode) or value.flow_style or not value.value:
        raise SuggestError(f"item '{item_id}': its alternates are not a list of lines '- ...'")
    last = value.value[-1]
    line = lines[last.start_mark.line]
    dash = line.rfind("-", 0, last.start_mark.column)
    if dash < 0 or line[:dash].strip():
        raise SuggestError(f"item '{item_id}': its alternates are not a list of lines '- ...'")
    return _line_after(last), [f"{line[:dash]}- {q}" for q in quoted]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it (ten times faster on a 1,000-line item file)."""


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (with line and column marks) and its Python value."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def insert_alternates(text: str, additions: Mapping[str, Sequence[str]]) -> str:
    """``text`` (one item file) with new alternates after each item's last one.

    Only lines are inserted: every existing byte, comment and quote stays as it was. (A
    round-trip library re-emits the whole file; ruamel.yaml, tried first, moved comments inside
    a list and changed the spacing before end-of-line comments.) The result is parsed again and
    must hold each item's old alternates followed by the new ones.
    """
    try:
        root, before = _parse(text)
    except yaml.YAMLError as error:
        raise SuggestError(f"cannot read the file: {error}") from None
    if not isinstance(root, yaml.SequenceNode):
        raise SuggestError("the file is not a list of items.")
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in text else "\n"
    insertions = []
    for entry in root.value:
        if not isinstance(entry, yaml.MappingNode):
            continue
        ids = [
            v.value for k, v in entry.value if isinstance(k, yaml.ScalarNode) and k.value == "id"
        ]
        if ids and ids[0] in additions:
            insertions.append(_insertion(lines, entry, additions[ids[0]], ids[0]))
    for at, new_lines in sorted(insertions, reverse=True):
        if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines[at:at] = [line + newline for line in new_lines]
    result = "".join(lines)
    expected = {
        entry["id"]: [*(entry.get("alternates") or []), *additions[entry["id"]]]
        for entry in before
        if isinstance(entry, dict) and entry.get("id") in additions
    }
    after = {
        entry["id"]: entry.get("alternates")
        for entry in _parse(result)[1]
        if isinstance(entry, dict) and entry.get("id") in additions
    }
    if after != expected or set(expected) != set(additions):
        raise SuggestError("the new alternates could not be inserted; paste them by hand.")
    return result


def _write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    mode = path.stat().st_mode & 0o777
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def apply_alternates(kb: KnowledgeBase, alternates: Iterable[Alternate]) -> list[Applied]:
    """Write the alternates into their items' files; every file is checked before any is written.

    Returns what was written (with each file's old text, for ``restore``).
    """
    per_file: dict[Path, dict[str, list[Alternate]]] = defaultdict(lambda: defaultdict(list))
    for alternate in alternates:
        path = kb.item_files.get(alternate.item_id)
        if path is None:
            raise SuggestError(f"item '{alternate.item_id}' is not in the knowledge base.")
        per_file[path][alternate.item_id].append(alternate)
    planned: list[tuple[Applied, str]] = []
    for path in sorted(per_file):
        original = path.read_text(encoding="utf-8")
        additions = {item: [a.text for a in items] for item, items in per_file[path].items()}
        try:
            updated = insert_alternates(original, additions)
        except SuggestError as error:
            raise SuggestError(f"{path}: {str(error).rstrip('.')}.") from None
        added = tuple(a for items in per_file[path].values() for a in items)
        planned.append((Applied(path, added, original), updated))
    for applied, updated in planned:
        _write_atomically(applied.path, updated)
    return [applied for applied, _ in planned]


def restore(applied: Iterable[Applied]) -> None:
    """Put the files back as they were before ``apply_alternates``."""
    for entry in applied:
        _write_atomically(entry.path, entry.original)
