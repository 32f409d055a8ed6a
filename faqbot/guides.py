"""Checking the knowledge base against the guides' own texts (``faqbot validate --guides DIR``).

The guides are not ours to redistribute, so their texts stay outside the repository; this module
reads them from a directory of plain-text copies (one file per guide, any file name). Three rules
keep every answer where its guide says it:

* an item's ``quote`` occurs word for word in the text of the guide the quote cites;
* every text in quotation marks inside an answer (»…«, "…", “…”, „…“, ”…”, '…') occurs word for
  word in one of the guides the item cites; "…" inside a quotation marks an omission, and each
  part must then occur, in order;
* every cited section names headings of that guide (``Del 5. Rammer, roller og ansvar –
  Oplysningspligt`` is two headings joined by " – ");
* no answer copies ``COPIED_RUN`` words in a row from any guide outside quotation marks: answers
  are in our own words (two of the guides state no reuse terms at all).

"Word for word" is compared after the known text-extraction fixes (words hyphenated across a line
break joined, the few in-line breaks and the garbled word listed in ``KNOWN_FIXES``), with
whitespace, quotation-mark and dash styles, emphasis markup and a final full stop or comma ignored.
A guide is found by its title (``sources.yaml``) near the top of its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from faqbot.kb import Item, KnowledgeBase, Problem, Source

KNOWN_FIXES: Mapping[str, str] = {
    "Psykiatريفoreningernes": "Psykiatriforeningernes",  # garbled in the status report
    "uhen-sigtsmæssigt": "uhensigtsmæssigt",  # broken across a line in the miniguide
    "Kes-sing": "Kessing",  # the same, in the miniguide's reading list
    "Sammen hensyn som for": "Samme hensyn som for",  # the miniguide's own typo in a heading
}
"""Flaws in the guides' texts, fixed before anything is compared (seeds README)."""

DESCRIPTIVE_SECTIONS = ("Forside", "Bagside")
"""Labels for text before the first heading or after the last one (a front-page epigraph, the
back cover); optionally followed by a note in parentheses: ``Forside (citat)``."""

COPIED_RUN = 10
"""This many words in a row, word for word from a guide, must stand in quotation marks."""
TITLE_WINDOW = 3000
"""A guide's title must occur within this many characters from the start of its text."""

_LINE_BREAK_HYPHEN = re.compile(r"(\w)-[ \t]*\n\s*(?=[a-zæøå])")
_MARKUP = re.compile(r"<sup>[^<]*</sup>|\*+|^#+\s*", re.MULTILINE)
_DOUBLE_QUOTES = str.maketrans({c: '"' for c in "“”„»«″"} | {c: "'" for c in "‘’‚′`´"})
_DASHES = re.compile(r"\s*[–—−]\s*|\s+-\s+")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_MARK = re.compile(r"\s+([?!:;,.])")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|\(\s*(?:…|\.\.\.)\s*\)|…|\.\.\.)\s*")
_DILEMMA = re.compile(r"^Dilemma (\d+):\s*", re.IGNORECASE)
_QUOTED = re.compile(
    r"»(?P<a>[^«»]+)«"
    r"|«(?P<b>[^«»]+)»"
    r"|“(?P<c>[^“”]+)”"
    r"|„(?P<d>[^„“”]+)[“”]"
    r"|”(?P<e>[^”“]+)”"
    r'|"(?P<f>[^"]+)"'
    r"|(?<![\w'’])['‘](?P<g>[^'‘’\n]+?)['’](?![\w])"
)


class GuidesError(Exception):
    """The guides directory cannot be used at all; the message is one sentence."""


@dataclass(frozen=True)
class Guide:
    """One guide's text, prepared for comparison, and the headings it has."""

    source: str
    path: Path
    texts: tuple[str, ...]
    """The text with line-break hyphens joined, and with them kept (a real compound split)."""
    headings: frozenset[str]
    runs: frozenset[tuple[str, ...]] = frozenset()
    """Every run of ``COPIED_RUN`` words of the text (lower-cased words, punctuation ignored)."""

    def copied_run(self, text: str) -> str | None:
        """The first run of ``COPIED_RUN`` words that ``text`` copies from this guide, or None."""
        words = _plain_words(text)
        for start in range(len(words) - COPIED_RUN + 1):
            run = tuple(words[start : start + COPIED_RUN])
            if run in self.runs:
                return " ".join(run)
        return None

    def contains(self, passage: str) -> bool:
        """Whether the passage (with "…" marking omissions) occurs word for word, in order."""
        parts = [comparable(part) for part in _ELLIPSIS.split(passage)]
        parts = [part for part in parts if part]
        return bool(parts) and any(_in_order(parts, text) for text in self.texts)

    def has_section(self, label: str) -> bool:
        """Whether a section label names headings of this guide (joined by " – ")."""
        label = label.strip()
        if any(_is_descriptive(label, name) for name in DESCRIPTIVE_SECTIONS):
            return True
        parts = [_DILEMMA.sub(r"\1. ", part) for part in label.split(" – ")]
        return _segments(parts, self._is_heading)

    def _is_heading(self, label: str) -> bool:
        key = heading_key(label)
        if key in self.headings:
            return True
        # A title followed by its subtitle on the same line: "Nyt hæfte om …? Det skal du …".
        return (
            bool(key)
            and label.rstrip()[-1:] in "?.!:"
            and any(heading.startswith(key + " ") for heading in self.headings)
        )


def _is_descriptive(label: str, name: str) -> bool:
    return label == name or (label.startswith(name + " (") and label.endswith(")"))


def _segments(parts: Sequence[str], is_heading: Callable[[str], bool]) -> bool:
    """Whether ``parts`` can be cut into runs that each, joined by " – ", are a heading."""
    if not parts:
        return True
    for end in range(len(parts), 0, -1):
        if is_heading(" – ".join(parts[:end])) and _segments(parts[end:], is_heading):
            return True
    return False


def _in_order(parts: Sequence[str], text: str) -> bool:
    start = 0
    for index, part in enumerate(parts):
        found = _find(text, part, start, first=index == 0)
        if found < 0:
            return False
        start = found + len(part)
    return True


def _find(text: str, part: str, start: int, *, first: bool) -> int:
    """Where ``part`` occurs as whole words from ``start``, or -1; a quotation may change the case
    of its first letter."""
    spellings = [part]
    if first and part[:1].isalpha():
        spellings.append(part[0].swapcase() + part[1:])
    for spelling in spellings:
        found = text.find(spelling, start)
        while found >= 0:
            end = found + len(spelling)
            if not (_joins(text, found - 1, spelling[0]) or _joins(text, end, spelling[-1])):
                return found
            found = text.find(spelling, found + 1)
    return -1


def _joins(text: str, index: int, edge: str) -> bool:
    """Whether the character at ``index`` would continue the word that ``edge`` begins or ends."""
    return 0 <= index < len(text) and edge.isalnum() and text[index].isalnum()


def fix_extraction(text: str) -> str:
    """The guide's text with the known extraction flaws fixed (line-break hyphens kept)."""
    for wrong, right in KNOWN_FIXES.items():
        text = text.replace(wrong, right)
    return _MARKUP.sub("", text)


def comparable(text: str) -> str:
    """One spelling of quotation marks, dashes and spaces; no final full stop, comma or colon."""
    text = _DASHES.sub(" - ", text.translate(_DOUBLE_QUOTES).replace("\u00a0", " "))
    text = _SPACE_BEFORE_MARK.sub(r"\1", _SPACES.sub(" ", text))
    return text.strip().rstrip(".,;:").strip()


def heading_key(text: str) -> str:
    """A heading compared without case, quotation marks, list markers or a final colon."""
    text = comparable(text).casefold().replace('"', "").replace("'", "")
    text = re.sub(r"^[-•]\s+", "", text)
    text = re.sub(r"\s+([?!])", r"\1", text)
    return text.rstrip(":").strip()


def _headings(text: str) -> frozenset[str]:
    """Every line short enough to be a heading (or a list item), as a ``heading_key``."""
    keys = (heading_key(line) for line in text.splitlines() if 0 < len(line.strip()) <= 200)
    return frozenset(key for key in keys if key)


def read_guide(source: str, path: Path) -> Guide:
    """One guide from its text file."""
    text = fix_extraction(path.read_text(encoding="utf-8"))
    joined = _LINE_BREAK_HYPHEN.sub(r"\1", text)
    kept = _LINE_BREAK_HYPHEN.sub(r"\1-", text)
    texts = tuple(dict.fromkeys(comparable(variant) for variant in (joined, kept)))
    runs = frozenset(
        tuple(words[start : start + COPIED_RUN])
        for words in (_plain_words(variant) for variant in texts)
        for start in range(len(words) - COPIED_RUN + 1)
    )
    return Guide(source, path, texts, _headings(joined) | _headings(text), runs)


def _plain_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def load_guides(directory: Path, sources: Iterable[Source]) -> tuple[dict[str, Guide], list[str]]:
    """Each source's guide, found by its title near the top of a text file in ``directory``.

    Returns the guides found and one sentence for every source without exactly one text.
    Raises ``GuidesError`` when the directory has no text files at all.
    """
    if not directory.is_dir():
        raise GuidesError(f"the guides directory {directory} does not exist.")
    files = sorted(path for path in directory.iterdir() if path.suffix.casefold() == ".txt")
    if not files:
        raise GuidesError(f"the guides directory {directory} has no .txt files.")
    tops = {path: _words(path.read_text(encoding="utf-8")[:TITLE_WINDOW]) for path in files}
    guides: dict[str, Guide] = {}
    missing: list[str] = []
    for source in sources:
        title = _words(source.title)
        matches = [path for path, top in tops.items() if f" {title} " in f" {top} "]
        if len(matches) == 1:
            guides[source.id] = read_guide(source.id, matches[0])
        elif not matches:
            missing.append(f"no text in {directory} has the title of source '{source.id}'")
        else:
            names = ", ".join(path.name for path in matches)
            missing.append(f"several texts have the title of source '{source.id}': {names}")
    return guides, missing


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", fix_extraction(text).casefold()))


def quoted_passages(answer: str) -> list[str]:
    """Every text in quotation marks inside an answer, in order."""
    return [next(group for group in match.groups() if group) for match in _QUOTED.finditer(answer)]


def item_problems(
    item: Item, guides: Mapping[str, Guide], cited_titles: Iterable[str] = ()
) -> Iterator[str]:
    """One sentence for every quotation or section of one item its guides do not hold.

    ``cited_titles`` are the titles of the guides the item cites: quoting one is always right.
    """
    cited = list(dict.fromkeys(ref.source for ref in item.sources))
    for ref in item.sources:
        guide = guides.get(ref.source)
        if guide is not None and not guide.has_section(ref.section):
            yield f"section '{ref.section}' is not a heading in {ref.source}"
    if item.quote is not None:
        guide = guides.get(item.quote.source)
        if guide is not None and not guide.has_section(item.quote.section):
            yield f"quote section '{item.quote.section}' is not a heading in {item.quote.source}"
        if guide is not None and not guide.contains(item.quote.text):
            yield f"quote is not word for word in {item.quote.source}"
        cited.append(item.quote.source)
    readable = [guides[source] for source in dict.fromkeys(cited) if source in guides]
    unquoted = _QUOTED.sub(" … ", item.answer)
    for guide in guides.values():
        for part in unquoted.split("…"):
            run = guide.copied_run(part)
            if run is not None:
                yield f"copies '{run}' from {guide.source} outside quotation marks"
                break
    titles = {_words(title) for title in cited_titles}
    for passage in quoted_passages(item.answer):
        if _words(passage) in titles:
            continue  # a guide's title, as sources.yaml spells it (found in its text above)
        if not any(guide.contains(passage) for guide in readable):
            elsewhere = [
                g.source for g in guides.values() if g not in readable and g.contains(passage)
            ]
            where = (
                f" (it is in {', '.join(elsewhere)}, which the item does not cite)"
                if elsewhere
                else ""
            )
            yield (
                f'"{passage}" is not word for word in {" or ".join(g.source for g in readable)}'
                f"{where}"
            )


def check(kb: KnowledgeBase, directory: Path) -> list[Problem]:
    """Every quotation and section of the knowledge base its guides do not hold, as problems."""
    guides, missing = load_guides(directory, kb.sources)
    problems = [Problem(str(directory), 1, message) for message in missing]
    lines = _item_lines(kb.directory)
    for item in kb.items:
        path, line = lines.get(item.id, (str(kb.directory / "items"), 1))
        titles = {kb.source(ref.source).title for ref in item.sources}
        found = item_problems(item, guides, titles)
        problems += [Problem(path, line, f"item '{item.id}': {message}") for message in found]
    return problems


def _item_lines(directory: Path) -> dict[str, tuple[str, int]]:
    """Where each item's ``id:`` line is, for problems a maintainer can jump to."""
    found: dict[str, tuple[str, int]] = {}
    pattern = re.compile(r"^\s*-?\s*id:\s*['\"]?([a-z0-9-]+)['\"]?\s*$")
    for path in sorted((directory / "items").glob("*.yaml")):
        display = _display(path)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = pattern.match(line)
            if match:
                found.setdefault(match.group(1), (display, number))
    return found


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
