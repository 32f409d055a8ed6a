"""The knowledge base: its YAML schema, loading into frozen dataclasses, and validation.

This module is the only code that reads the knowledge directory's YAML. Every problem it finds
is reported as ``path:line: message`` so a maintainer can jump straight to it; ``load`` raises
``InvalidKnowledgeBase`` carrying all of them, and nothing half-loaded ever escapes.

Layout of the knowledge directory::

    sources.yaml          the guides (id, title, publisher, year, url, licence)
    items/<category>.yaml the items, one file per category
    synonyms.yaml         groups of equivalent words and spellings
    safety.yaml           the crisis phrases and the fixed safety response
    out_of_scope.yaml     optional: questions the bot must not answer (negative examples)
    eval.yaml             the evaluation set and its floors (read by ``load_eval``)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

MAX_MESSAGE_CHARS = 4096
"""Telegram's limit for one message; an answer and its citation must fit in it."""

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: the same nodes and line marks, about seven times
faster (the bot's start-up, every reload). A file it refuses is read again with the pure-Python
loader, whose problem texts are the ones maintainers see."""


class KnowledgeBaseError(Exception):
    """Base class for knowledge-base errors."""


class InvalidKnowledgeBase(KnowledgeBaseError):
    """The knowledge base has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem, printed as ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Source:
    """One of the guides the answers come from."""

    id: str
    title: str
    publisher: str
    year: str
    licence: str
    url: str | None = None
    authors: str | None = None


@dataclass(frozen=True)
class SourceRef:
    """A citation: which guide, and the guide's own part, heading or section."""

    source: str
    section: str


@dataclass(frozen=True)
class Quote:
    """A short verbatim quotation with its source."""

    text: str
    source: str
    section: str


@dataclass(frozen=True)
class Item:
    """One question the bot can answer."""

    id: str
    category: str
    question: str
    answer: str
    sources: tuple[SourceRef, ...]
    alternates: tuple[str, ...] = ()
    quote: Quote | None = None
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The canonical question followed by every alternate."""
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class SafetyRules:
    """What counts as a crisis message, and what the bot says to one."""

    response: str
    phrases: tuple[str, ...]
    policy_phrases: tuple[str, ...] = ()
    urgent_phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base. Build it with ``load``."""

    directory: Path
    sources: tuple[Source, ...]
    items: tuple[Item, ...]
    synonyms: tuple[tuple[str, ...], ...]
    safety: SafetyRules
    negatives: tuple[str, ...] = ()
    """Questions outside the knowledge base's subject (out_of_scope.yaml): never answered."""
    subject: tuple[str, ...] = ()
    """Words that say a question is about the subject (subject.yaml: "peer", "brugerbaggrund"):
    a question naming none of them is scored down, unless it is close to an item's phrasing."""

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {source.id: source for source in self.sources}

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` if there is none."""
        return self._items_by_id[item_id]

    def get_item(self, item_id: str) -> Item | None:
        """The item with this id, or None."""
        return self._items_by_id.get(item_id)

    def source(self, source_id: str) -> Source:
        """The guide with this id; ``KeyError`` if there is none."""
        return self._sources_by_id[source_id]

    @cached_property
    def categories(self) -> tuple[str, ...]:
        """Category names in alphabetical (Danish-insensitive) order."""
        return tuple(sorted({item.category for item in self.items}, key=str.casefold))

    def items_in(self, category: str) -> tuple[Item, ...]:
        """The items of one category, in file order."""
        return tuple(item for item in self.items if item.category == category)

    def citation(self, ref: SourceRef) -> str:
        """The one citation line: ``Kilde: <title> (<publisher>, <year>), <section>``."""
        return format_citation(self.source(ref.source), ref.section)


def format_citation(source: Source, section: str) -> str:
    """Format a citation; shared by the validator's length check and every renderer."""
    return f"Kilde: {source.title} ({source.publisher}, {source.year}), {section}"


# --------------------------------------------------------------------------------------------
# Reading YAML with line numbers
# --------------------------------------------------------------------------------------------


@dataclass
class _Map:
    """A YAML mapping with the line of each key."""

    values: dict[str, Any]
    key_lines: dict[str, int]
    line: int


@dataclass
class _Seq:
    """A YAML sequence with the line of each element."""

    values: list[Any]
    lines: list[int]
    line: int


@dataclass
class _Reader:
    """Collects problems while reading the files of one knowledge directory."""

    directory: Path
    problems: list[Problem] = field(default_factory=list)

    def display(self, path: Path) -> str:
        """A path the maintainer can open: relative to the working directory where possible."""
        if not path.is_absolute():
            return str(path)
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.display(path), line, message))

    def read(self, path: Path) -> Any:
        """Parse one YAML file into _Map/_Seq/scalars; None (and a problem) if it cannot."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problem(path, 1, "file is missing")
            return None
        except (OSError, UnicodeDecodeError) as error:
            self.problem(path, 1, f"cannot read file: {error}")
            return None
        if _FAST_LOADER is not yaml.SafeLoader:
            known = len(self.problems)
            loader = _FAST_LOADER(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    return self._convert(loader, node, path)
            except yaml.YAMLError:
                del self.problems[known:]  # reported again, in the usual words, below
            finally:
                loader.dispose()
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                self.problem(path, 1, "file is empty")
                return None
            return self._convert(loader, node, path)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else 1
            reason = error.problem or error.context or "invalid YAML"
            self.problem(path, line, f"invalid YAML: {reason}")
            return None
        except yaml.YAMLError as error:
            self.problem(path, 1, f"invalid YAML: {error}")
            return None
        finally:
            loader.dispose()

    def _convert(self, loader: yaml.SafeLoader, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            result = _Map({}, {}, line)
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    self.problem(path, key_line, f"key {key!r} is not text")
                    continue
                if key in result.values:
                    self.problem(path, key_line, f"duplicate key '{key}'")
                    continue
                result.values[key] = self._convert(loader, value_node, path)
                result.key_lines[key] = key_line
            return result
        if isinstance(node, yaml.SequenceNode):
            return _Seq(
                [self._convert(loader, child, path) for child in node.value],
                [child.start_mark.line + 1 for child in node.value],
                line,
            )
        return loader.construct_object(node, deep=True)


def _clean(text: str) -> str:
    """Collapse whitespace; YAML folded blocks leave trailing newlines."""
    return " ".join(text.split())


def _same_phrase(text: str) -> str:
    """The key under which two phrasings count as the same (case and spacing ignored)."""
    return " ".join(text.casefold().split())


class _Fields:
    """Typed access to one mapping's fields, reporting missing, empty and ill-typed ones."""

    def __init__(self, reader: _Reader, path: Path, mapping: _Map, what: str) -> None:
        self.reader, self.path, self.mapping, self.what = reader, path, mapping, what

    def line(self, key: str) -> int:
        return self.mapping.key_lines.get(key, self.mapping.line)

    def check_keys(self, required: Iterable[str], optional: Iterable[str]) -> None:
        allowed = set(required) | set(optional)
        for key in self.mapping.values:
            if key not in allowed:
                self.reader.problem(self.path, self.line(key), f"{self.what}: unknown key '{key}'")
        for key in required:
            if key not in self.mapping.values:
                self.reader.problem(
                    self.path, self.mapping.line, f"{self.what}: missing required field '{key}'"
                )

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty string (numbers are accepted and turned into text)."""
        if key not in self.mapping.values:
            return None
        value = self.mapping.values[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is None and required:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            elif value is not None:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be text")
            return None
        text = _clean(str(value))
        if not text:
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return None
        return text

    def text_list(self, key: str, *, required: bool = False) -> list[tuple[str, int]]:
        """A list of non-empty strings, each with its line."""
        if key not in self.mapping.values:
            return []
        value = self.mapping.values[key]
        if value is None:
            if required:
                self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return []
        if not isinstance(value, _Seq):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be a list")
            return []
        if required and not value.values:
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
        result = []
        for element, line in zip(value.values, value.lines, strict=True):
            if isinstance(element, bool) or not isinstance(element, str | int | float):
                self.reader.problem(
                    self.path, line, f"{self.what}: every entry of '{key}' must be text"
                )
                continue
            text = _clean(str(element))
            if not text:
                self.reader.problem(self.path, line, f"{self.what}: empty entry in '{key}'")
                continue
            result.append((text, line))
        return result

    def mappings(self, key: str) -> list[tuple[_Map, int]]:
        """A non-empty list of mappings, each with its line."""
        value = self.mapping.values.get(key)
        if key not in self.mapping.values:
            return []
        if value is None or (isinstance(value, _Seq) and not value.values):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' is empty")
            return []
        if not isinstance(value, _Seq):
            self.reader.problem(self.path, self.line(key), f"{self.what}: '{key}' must be a list")
            return []
        result = []
        for element, line in zip(value.values, value.lines, strict=True):
            if isinstance(element, _Map):
                result.append((element, line))
            else:
                self.reader.problem(
                    self.path, line, f"{self.what}: every entry of '{key}' must be a mapping"
                )
        return result


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------

_SOURCE_KEYS = (("id", "title", "publisher", "year", "licence"), ("url", "authors"))
_ITEM_KEYS = (
    ("id", "category", "question", "answer", "sources"),
    ("alternates", "quote", "related", "tags"),
)
_REF_KEYS = (("source", "section"), ())
_QUOTE_KEYS = (("text", "source", "section"), ())
_SAFETY_KEYS = (("response", "phrases"), ("policy_phrases", "urgent_phrases"))


@dataclass
class _Located:
    """A value with the place it came from, for cross-file checks."""

    path: Path
    line: int


def _top_level_list(reader: _Reader, path: Path, data: Any, what: str) -> list[tuple[_Map, int]]:
    if data is None:
        return []
    if not isinstance(data, _Seq):
        reader.problem(path, 1, f"expected a list of {what} at the top level")
        return []
    result = []
    for element, line in zip(data.values, data.lines, strict=True):
        if isinstance(element, _Map):
            result.append((element, line))
        else:
            reader.problem(path, line, f"every entry must be a mapping describing one {what[:-1]}")
    return result


def _read_sources(reader: _Reader) -> tuple[list[Source], dict[str, _Located]]:
    path = reader.directory / "sources.yaml"
    sources: list[Source] = []
    seen: dict[str, _Located] = {}
    for mapping, _line in _top_level_list(reader, path, reader.read(path), "sources"):
        fields = _Fields(reader, path, mapping, "source")
        source_id = fields.text("id")
        if source_id is not None:
            fields.what = f"source '{source_id}'"
        fields.check_keys(*_SOURCE_KEYS)
        values = {key: fields.text(key) for key in ("title", "publisher", "year", "licence")}
        url = fields.text("url", required=False)
        authors = fields.text("authors", required=False)
        if source_id is None:
            continue
        if source_id in seen:
            first = seen[source_id]
            reader.problem(
                path,
                fields.line("id"),
                f"duplicate source id '{source_id}' (first at {reader.display(first.path)}:"
                f"{first.line})",
            )
            continue
        seen[source_id] = _Located(path, fields.line("id"))
        if all(value is not None for value in values.values()):
            sources.append(Source(id=source_id, url=url, authors=authors, **values))  # type: ignore[arg-type]
    return sources, seen


def _read_ref(
    reader: _Reader,
    path: Path,
    mapping: _Map,
    what: str,
    keys: tuple[tuple[str, ...], tuple[str, ...]],
) -> dict[str, Any] | None:
    fields = _Fields(reader, path, mapping, what)
    fields.check_keys(*keys)
    values = {key: fields.text(key) for key in keys[0]}
    return values if all(value is not None for value in values.values()) else None


@dataclass
class _ItemDraft:
    item: Item
    path: Path
    line: int
    lines: dict[str, int]
    alternate_lines: list[int]
    related_lines: list[int]


def _read_items(reader: _Reader, known_sources: set[str]) -> tuple[list[_ItemDraft], set[str]]:
    """Every complete item, and the ids of all items (complete or not) for reference checks."""
    items_dir = reader.directory / "items"
    files = sorted(items_dir.glob("*.yaml")) if items_dir.is_dir() else []
    if not files:
        reader.problem(items_dir, 1, "no item files (items/*.yaml) found")
    drafts: list[_ItemDraft] = []
    ids: set[str] = set()
    for path in files:
        for mapping, line in _top_level_list(reader, path, reader.read(path), "items"):
            draft = _read_item(reader, path, mapping, line, known_sources)
            if draft is not None:
                drafts.append(draft)
            item_id = mapping.values.get("id")
            if isinstance(item_id, str):
                ids.add(item_id.strip())
    return drafts, ids


def _read_item(
    reader: _Reader, path: Path, mapping: _Map, line: int, known_sources: set[str]
) -> _ItemDraft | None:
    fields = _Fields(reader, path, mapping, "item")
    item_id = fields.text("id")
    if item_id is not None:
        fields.what = f"item '{item_id}'"
        if not ID_PATTERN.match(item_id):
            reader.problem(
                path,
                fields.line("id"),
                f"{fields.what}: id must be lowercase letters, digits and single hyphens",
            )
    fields.check_keys(*_ITEM_KEYS)
    category, question, answer = (fields.text(key) for key in ("category", "question", "answer"))
    alternates = fields.text_list("alternates")
    related = fields.text_list("related")
    tags = fields.text_list("tags")
    refs: list[SourceRef] = []
    for ref_mapping, ref_line in fields.mappings("sources"):
        values = _read_ref(reader, path, ref_mapping, f"{fields.what} source", _REF_KEYS)
        if values is not None:
            refs.append(SourceRef(**values))
            if values["source"] not in known_sources:
                reader.problem(
                    path, ref_line, f"{fields.what}: unknown source id '{values['source']}'"
                )
    quote = None
    quote_line = fields.line("quote")
    if "quote" in mapping.values:
        value = mapping.values["quote"]
        if isinstance(value, _Map):
            values = _read_ref(reader, path, value, f"{fields.what} quote", _QUOTE_KEYS)
            quote = Quote(**values) if values is not None else None
            if quote is not None and quote.source not in known_sources:
                reader.problem(
                    path, quote_line, f"{fields.what}: quote has unknown source id '{quote.source}'"
                )
        else:
            reader.problem(path, quote_line, f"{fields.what}: 'quote' must be a mapping")
    if None in (item_id, category, question, answer) or not refs:
        return None
    item = Item(
        id=item_id,  # type: ignore[arg-type]
        category=category,  # type: ignore[arg-type]
        question=question,  # type: ignore[arg-type]
        answer=answer,  # type: ignore[arg-type]
        sources=tuple(refs),
        alternates=tuple(text for text, _ in alternates),
        quote=quote,
        related=tuple(text for text, _ in related),
        tags=tuple(text for text, _ in tags),
    )
    return _ItemDraft(
        item,
        path,
        line,
        {key: fields.line(key) for key in mapping.values},
        [line for _, line in alternates],
        [line for _, line in related],
    )


def _check_items(
    reader: _Reader,
    drafts: list[_ItemDraft],
    sources: Mapping[str, Source],
    all_ids: set[str],
) -> list[Item]:
    """Cross-item checks: unique ids, known related ids, unique phrasings, message length."""
    first_by_id: dict[str, _ItemDraft] = {}
    unique: list[_ItemDraft] = []
    for draft in drafts:
        item_id = draft.item.id
        if item_id in first_by_id:
            first = first_by_id[item_id]
            reader.problem(
                draft.path,
                draft.lines.get("id", draft.line),
                f"duplicate item id '{item_id}' (first at {reader.display(first.path)}:"
                f"{first.lines.get('id', first.line)})",
            )
            continue
        first_by_id[item_id] = draft
        unique.append(draft)

    phrase_owner: dict[str, tuple[str, _Located]] = {}
    for draft in unique:
        item = draft.item
        what = f"item '{item.id}'"
        for related, line in zip(item.related, draft.related_lines, strict=True):
            if related == item.id:
                reader.problem(draft.path, line, f"{what}: related lists the item itself")
            elif related not in all_ids:
                reader.problem(draft.path, line, f"{what}: unknown related item id '{related}'")
        first_ref = item.sources[0]
        if first_ref.source in sources:
            citation = format_citation(sources[first_ref.source], first_ref.section)
            length = len(item.answer) + 2 + len(citation)
            if length > MAX_MESSAGE_CHARS:
                reader.problem(
                    draft.path,
                    draft.lines.get("answer", draft.line),
                    f"{what}: answer with its citation is {length} characters, more than "
                    f"the {MAX_MESSAGE_CHARS} that fit in one Telegram message",
                )
        phrasings = [(item.question, draft.lines.get("question", draft.line))]
        phrasings += list(zip(item.alternates, draft.alternate_lines, strict=True))
        for text, line in phrasings:
            key = _same_phrase(text)
            owner = phrase_owner.get(key)
            if owner is None:
                phrase_owner[key] = (item.id, _Located(draft.path, line))
            elif owner[0] != item.id:
                reader.problem(
                    draft.path,
                    line,
                    f"{what}: phrasing '{text}' is already used by item '{owner[0]}' "
                    f"({reader.display(owner[1].path)}:{owner[1].line})",
                )
            else:
                reader.problem(draft.path, line, f"{what}: phrasing '{text}' is repeated")
    return [draft.item for draft in unique]


def _optional_list(reader: _Reader, name: str, expected: str) -> tuple[Path, _Seq | None]:
    """An optional file holding a top-level list: None, and no problem, when it is absent."""
    path = reader.directory / name
    if not path.exists():
        return path, None
    data = reader.read(path)
    if data is not None and not isinstance(data, _Seq):
        reader.problem(path, 1, expected)
        return path, None
    return path, data


def _read_synonyms(reader: _Reader) -> list[tuple[str, ...]]:
    path, data = _optional_list(
        reader, "synonyms.yaml", "expected a list of synonym groups (lists of words)"
    )
    if data is None:
        return []
    groups: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for group, line in zip(data.values, data.lines, strict=True):
        if not isinstance(group, _Seq) or len(group.values) < 2:
            reader.problem(path, line, "a synonym group must be a list of at least two words")
            continue
        words = []
        for word, word_line in zip(group.values, group.lines, strict=True):
            if isinstance(word, bool) or not isinstance(word, str | int) or not str(word).strip():
                reader.problem(path, word_line, "every synonym must be non-empty text")
                continue
            text = _clean(str(word))
            key = _same_phrase(text)
            if key in owner:
                reader.problem(
                    path,
                    word_line,
                    f"'{text}' is already in the synonym group at line {owner[key]}",
                )
                continue
            owner[key] = line
            words.append(text)
        if len(words) >= 2:
            groups.append(tuple(words))
    return groups


def _read_safety(reader: _Reader) -> SafetyRules | None:
    path = reader.directory / "safety.yaml"
    data = reader.read(path)
    if data is None:
        return None
    if not isinstance(data, _Map):
        reader.problem(path, 1, "expected a mapping with 'response' and 'phrases'")
        return None
    fields = _Fields(reader, path, data, "safety")
    fields.check_keys(*_SAFETY_KEYS)
    response = data.values.get("response")
    if not isinstance(response, str) or not response.strip():
        if "response" in data.values:
            reader.problem(path, fields.line("response"), "safety: 'response' is empty")
        return None
    phrases = fields.text_list("phrases", required=True)
    policy = fields.text_list("policy_phrases")
    urgent = fields.text_list("urgent_phrases")
    if not phrases:
        return None
    return SafetyRules(
        response=response.strip(),
        phrases=tuple(text for text, _ in phrases),
        policy_phrases=tuple(text for text, _ in policy),
        urgent_phrases=tuple(text for text, _ in urgent),
    )


def _read_texts(reader: _Reader, name: str, expected: str, each: str) -> list[str]:
    """An optional file holding a list of distinct, non-empty texts."""
    path, data = _optional_list(reader, name, expected)
    if data is None:
        return []
    texts: list[str] = []
    seen: dict[str, int] = {}
    for value, line in zip(data.values, data.lines, strict=True):
        if not isinstance(value, str) or not value.strip():
            reader.problem(path, line, f"every {each} must be non-empty text")
            continue
        text = _clean(value)
        key = _same_phrase(text)
        if key in seen:
            reader.problem(path, line, f"'{text}' is already listed at line {seen[key]}")
            continue
        seen[key] = line
        texts.append(text)
    return texts


OPTIONAL_TEXT_FILES = {
    "negatives": (
        "out_of_scope.yaml",
        "expected a list of out-of-scope questions at the top level",
        "out-of-scope question",
    ),
    "subject": (
        "subject.yaml",
        "expected a list of the words that name the knowledge base's subject",
        "subject word",
    ),
}
"""KnowledgeBase field -> (file, the message when it is not a list, what one entry is)."""


def _collect(directory: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    reader = _Reader(Path(directory))
    if not reader.directory.is_dir():
        reader.problem(reader.directory, 1, "knowledge directory does not exist")
        return None, reader.problems
    sources, known_sources = _read_sources(reader)
    by_id = {source.id: source for source in sources}
    drafts, all_ids = _read_items(reader, set(known_sources))
    items = _check_items(reader, drafts, by_id, all_ids)
    synonyms = _read_synonyms(reader)
    safety = _read_safety(reader)
    texts = {
        field: tuple(_read_texts(reader, *spec)) for field, spec in OPTIONAL_TEXT_FILES.items()
    }
    if reader.problems or safety is None:
        return None, sorted(set(reader.problems), key=lambda p: (p.path, p.line, p.message))
    kb = KnowledgeBase(
        directory=reader.directory,
        sources=tuple(sources),
        items=tuple(items),
        synonyms=tuple(synonyms),
        safety=safety,
        **texts,
    )
    return kb, []


def validate(directory: Path) -> list[Problem]:
    """Every problem in the knowledge directory (and its eval set), sorted; empty if valid."""
    kb, problems = _collect(directory)
    if kb is not None and (Path(directory) / "eval.yaml").exists():
        try:
            load_eval(Path(directory) / "eval.yaml", kb)
        except InvalidKnowledgeBase as error:
            problems.extend(error.problems)
    return problems


def load(directory: Path) -> KnowledgeBase:
    """Load and validate the knowledge base; raise ``InvalidKnowledgeBase`` on any problem."""
    kb, problems = _collect(directory)
    if kb is None:
        raise InvalidKnowledgeBase(problems)
    return kb


# --------------------------------------------------------------------------------------------
# The evaluation set
# --------------------------------------------------------------------------------------------

EVAL_FLOOR_NAMES = ("top1", "wrong_answer_max", "out_of_scope_rejection", "safety_recall")


@dataclass(frozen=True)
class EvalQuestion:
    """A question, the id of the item that must answer it, and any item that answers it as well.

    ``also`` lists items whose answer answers the question just as directly (the knowledge base
    has overlapping items, e.g. a practical item and a dilemma on the same topic); the eval counts
    any of them as right.
    """

    question: str
    expect: str
    also: tuple[str, ...] = ()

    @property
    def acceptable(self) -> frozenset[str]:
        """Every item id that counts as a right answer."""
        return frozenset((self.expect, *self.also))


@dataclass(frozen=True)
class EvalSet:
    """``knowledge/eval.yaml``: in-scope questions, out-of-scope ones, crisis messages, floors."""

    floors: Mapping[str, float]
    questions: tuple[EvalQuestion, ...]
    out_of_scope: tuple[str, ...]
    crisis: tuple[str, ...]
    not_crisis: tuple[str, ...] = ()


def load_eval(path: Path, kb: KnowledgeBase) -> EvalSet:
    """Load the eval set, checking that every expected item exists in ``kb``."""
    reader = _Reader(path.parent)
    data = reader.read(path)
    if data is not None and not isinstance(data, _Map):
        reader.problem(path, 1, "expected a mapping with floors, questions, out_of_scope, crisis")
    if reader.problems or data is None:
        raise InvalidKnowledgeBase(reader.problems)
    fields = _Fields(reader, path, data, "eval")
    fields.check_keys(("floors", "questions", "out_of_scope", "crisis"), ("not_crisis",))
    floors: dict[str, float] = {}
    floor_map = data.values.get("floors")
    if isinstance(floor_map, _Map):
        for name, value in floor_map.values.items():
            line = floor_map.key_lines[name]
            if name not in EVAL_FLOOR_NAMES:
                reader.problem(path, line, f"eval: unknown floor '{name}'")
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0 <= value <= 1)
            ):
                reader.problem(path, line, f"eval: floor '{name}' must be a number from 0 to 1")
            else:
                floors[name] = float(value)
    elif "floors" in data.values:
        reader.problem(path, fields.line("floors"), "eval: 'floors' must be a mapping")
    questions = []
    known = {item.id for item in kb.items}
    for mapping, line in fields.mappings("questions"):
        entry = _Fields(reader, path, mapping, "eval question")
        entry.check_keys(("q", "expect"), ("also",))
        question, expect = entry.text("q"), entry.text("expect")
        also = entry.text_list("also")
        if question is None or expect is None:
            continue
        unknown = [item_id for item_id in (expect, *(i for i, _ in also)) if item_id not in known]
        for item_id in unknown:
            reader.problem(path, line, f"eval question: unknown item id '{item_id}'")
        if unknown:
            continue
        questions.append(EvalQuestion(question, expect, tuple(item_id for item_id, _ in also)))
    lists = {
        key: tuple(text for text, _ in fields.text_list(key, required=key != "not_crisis"))
        for key in ("out_of_scope", "crisis", "not_crisis")
    }
    if reader.problems:
        raise InvalidKnowledgeBase(reader.problems)
    return EvalSet(floors=floors, questions=tuple(questions), **lists)


def iter_phrasings(kb: KnowledgeBase) -> Iterator[tuple[Item, str]]:
    """Every (item, phrasing) pair, question first; the matcher indexes these."""
    for item in kb.items:
        for phrasing in item.phrasings:
            yield item, phrasing
