"""YAML text -> a tree of `YNode`s that remember where each key and value was written.

ruamel.yaml composes the text into nodes that keep 0-based line/column marks; this module turns
them into 1-based `Mark`s and key paths (`cues[3].levels.x.dimmer`) so every later check can
point at the exact spot in the file.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from cuenode.show.model import Mark, Problem


@dataclass
class YNode:
    """One value from the file: a mapping (dict of YNode), a list of YNode, or a plain scalar."""

    value: Any
    mark: Mark  # where the value starts
    path: str  # key path from the top of the file, e.g. "fixtures.spot1.address"
    key_mark: Mark | None = None  # for a mapping entry: where its key is written
    children: dict[str, YNode] | list[YNode] | None = field(default=None, repr=False)

    @property
    def where(self) -> Mark:
        """The mark to report for a problem with this entry as a whole: its key if it has one."""
        return self.key_mark or self.mark

    @property
    def is_map(self) -> bool:
        return isinstance(self.children, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.children, list)


PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}\Z")


@lru_cache(maxsize=65536)
def key_text(key: str) -> str:
    """A key as problems show it: plain names as they are, anything odd quoted and shortened
    (so a key that is really a mis-indented sentence cannot garble the one-line format)."""
    if PLAIN_KEY_RE.match(key):
        return key
    return repr(key if len(key) <= 40 else key[:37] + "...")


def quoted_key(key: str) -> str:
    """A key inside a message: always quoted, odd keys shortened."""
    shown = key_text(key)
    return shown if shown != key else repr(key)


def child_path(parent: str, key: str) -> str:
    return f"{parent}.{key_text(key)}" if parent else key_text(key)


def load_yaml(text: str, path: str) -> tuple[YNode | None, list[Problem]]:
    """Parse one YAML document into YNodes, with every duplicate key as a Problem; a syntax
    error comes back as (None, [that problem]) with its line:col."""
    too_deep = _nesting_problem(text, path)
    if too_deep is not None:
        return None, [too_deep]
    yaml = _yaml()
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, path, text)]
    except ReaderError as exc:  # a character YAML does not allow, e.g. a NUL byte
        return None, [_reader_problem(exc, text, path)]
    except YAMLError as exc:  # no mark: cannot do better than the top of the file
        what = " ".join(str(exc).split())  # one line, whatever the library wrote
        return None, [
            Problem(Mark(path, 1, 1), "(file)", f"YAML error: {what}", "expected valid YAML")
        ]
    if root is None:  # an empty document
        return YNode(None, Mark(path, 1, 1), ""), []
    builder = _Builder(path, yaml.constructor)
    try:
        return builder.wrap(root, "", None), builder.problems
    except MarkedYAMLError as exc:  # a scalar that does not construct, e.g. a bad timestamp
        return None, [_syntax_problem(exc, path)]
    except RecursionError:  # _nesting_problem should have caught it first
        return None, [
            Problem(
                Mark(path, 1, 1),
                "(file)",
                "nested too deeply",
                "expected a show nested a few levels deep",
            )
        ]


class _Resolver12(VersionedResolver):
    """ruamel's YAML 1.2 rules for plain scalars, with the rule table and the Tag objects
    looked up once instead of per scalar (per-scalar lookups were half the parse time)."""

    _rules: dict[str | None, list[tuple[Tag, re.Pattern[str]]]] | None = None
    _seen: dict[str, Tag] = {}  # plain scalar text -> its tag: keys and levels repeat a lot

    @property
    def processing_version(self) -> tuple[int, int]:
        return (1, 2)

    def _table(self) -> dict[str | None, list[tuple[Tag, re.Pattern[str]]]]:
        if _Resolver12._rules is None:  # ruamel's lazily compiled regexps, compiled for real
            _Resolver12._rules = {
                first: [(Tag(suffix=tag), re.compile(rx.pattern, rx.flags)) for tag, rx in rules]
                for first, rules in self.versioned_resolver.items()
            }
        return _Resolver12._rules

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or not implicit[0]:
            return super().resolve(kind, value, implicit)
        seen = _Resolver12._seen
        tag = seen.get(value)
        if tag is None:
            if len(seen) > 100_000:  # bounded, whatever a process loads
                seen.clear()
            tag = seen[value] = self._resolve_plain(value)
        return tag

    def _resolve_plain(self, value: str) -> Tag:
        table = self._table()
        for rules in (table.get(value[:1], ()), table.get(None, ())):
            for tag, regexp in rules:
                if regexp.match(value):
                    return tag
        return self.DEFAULT_SCALAR_TAG


MAX_FLOW_DEPTH = 64
MAX_INDENT = 200
_QUOTED_OR_COMMENT = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|#[^\n]*""")
_BRACKET = re.compile(r"[\[\]{}]")
# more than MAX_INDENT leading spaces and block "- " / "? " indicators on one line
_TOO_INDENTED = re.compile(r"^(?: |-(?= |$)|\?(?= )){" + str(MAX_INDENT + 1) + "}", re.M)


def _nesting_problem(text: str, path: str) -> Problem | None:
    """Absurdly deep nesting would overflow the parser's C stack (a crash, not an error) or
    Python's recursion limit: refuse it first. No show needs more than a few levels."""
    deep = _TOO_INDENTED.search(text)
    if deep is not None:
        return _position_problem(
            text,
            deep.end(),
            path,
            f"indented more than {MAX_INDENT} columns",
            "expected a show nested a few levels deep",
        )
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return None
    plain = _QUOTED_OR_COMMENT.sub(lambda m: " " * len(m.group()), text)
    depth = 0
    for bracket in _BRACKET.finditer(plain):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_FLOW_DEPTH:
            return _position_problem(
                text,
                bracket.start(),
                path,
                f"brackets nested more than {MAX_FLOW_DEPTH} deep",
                "expected a show nested a few levels deep",
            )
    return None


def _reader_problem(exc: ReaderError, text: str, path: str) -> Problem:
    position = exc.position if isinstance(exc.position, int) else 0
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
    return _position_problem(
        text,
        position,
        path,
        f"character U+{char:04X} is not allowed in YAML (a control character)",
        "expected printable text",
    )


def _position_problem(text: str, index: int, path: str, message: str, expected: str) -> Problem:
    before = text[:index]
    line, col = before.count("\n") + 1, index - before.rfind("\n")
    return Problem(Mark(path, line, col), "(file)", message, expected)


@cache
def _yaml() -> YAML:
    """The safe loader: libyaml's C parser (ruamel.yaml.clib) when installed, YAML 1.2 rules
    (so `on`/`off`/`yes` are text). Composing nodes keeps every line/column mark and is far
    faster than the round-trip loader, which matters for 1,000-cue shows."""
    yaml = YAML(typ="safe")
    yaml.Resolver = _Resolver12
    return yaml


def pure_python_yaml() -> YAML:
    """The same loader on ruamel's pure-Python parser (for comparisons and benchmarks)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _Resolver12
    return yaml


def _syntax_problem(exc: MarkedYAMLError, path: str, text: str = "") -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = exc.problem or exc.context or "not valid YAML"
    context = exc.context_mark
    if _char_at(text, line, col) == "\t":
        what = "a tab character (YAML indents with spaces only)"
    elif exc.context and exc.problem and exc.problem.startswith("but "):
        what = f"{exc.context}, {exc.problem}"  # ruamel splits one sentence in two
    elif exc.context and exc.problem and context is not None:
        what += f" ({exc.context} started at line {context.line + 1})"
    return Problem(
        Mark(path, line, col),
        "(syntax)",
        f"YAML syntax error: {what}",
        "expected valid YAML (check indentation, colons, quotes and brackets)",
    )


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.split("\n")
    if not 1 <= line <= len(lines) or not 1 <= col <= len(lines[line - 1]):
        return ""
    return lines[line - 1][col - 1]


class _Builder:
    """Composed YAML nodes -> YNodes (scalars constructed by ruamel's safe constructor)."""

    def __init__(self, path: str, constructor: Any) -> None:
        self.path = path
        self.constructor = constructor
        self.problems: list[Problem] = []

    def mark(self, node: Node) -> Mark:
        return Mark(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def wrap(self, node: Node, path: str, key_mark: Mark | None) -> YNode:
        if isinstance(node, MappingNode):
            return self._map(node, path, key_mark)
        if isinstance(node, SequenceNode):
            items = [self.wrap(item, f"{path}[{i}]", None) for i, item in enumerate(node.value)]
            return YNode([item.value for item in items], self.mark(node), path, key_mark, items)
        mark = self.mark(node)
        if node.value == "" and not getattr(node, "style", None) and key_mark is not None:
            mark = key_mark  # an empty value: libyaml and the pure parser place it apart
        return YNode(self.scalar(node, path), mark, path, key_mark)

    def scalar(self, node: Node, path: str) -> Any:
        if node.ctag is _Resolver12.DEFAULT_SCALAR_TAG:
            return str(node.value)
        tag = node.tag
        if tag == _STR_TAG:
            return str(node.value)
        if tag not in _VALUE_TAGS:  # !custom, !!binary, ...: keep the text, say it is odd
            self.problems.append(
                Problem(
                    self.mark(node),
                    path or "(top level)",
                    f"unsupported YAML tag {tag!r}",
                    "expected plain values, without tags",
                )
            )
            return str(node.value)
        return _plain(self.constructor.construct_object(node, deep=True))

    def _map(self, node: MappingNode, path: str, key_mark: Mark | None) -> YNode:
        children: dict[str, YNode] = {}
        merged: list[tuple[Node, Node]] = []  # entries from `<<: *anchor` merge keys
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged += self._merge_sources(value_node, child_path(path, "<<"))
                continue
            name = (
                _key_text(self.scalar(key_node, path)) if isinstance(key_node, ScalarNode) else "?"
            )
            kmark = self.mark(key_node)
            if name in children:
                self._duplicate(kmark, path, name, children[name].key_mark or kmark)
                continue
            children[name] = self.wrap(value_node, child_path(path, name), kmark)
        for key_node, value_node in merged:  # keys written in the mapping itself win
            name = (
                _key_text(self.scalar(key_node, path)) if isinstance(key_node, ScalarNode) else "?"
            )
            if name not in children:
                children[name] = self.wrap(value_node, child_path(path, name), self.mark(key_node))
        values = {k: v.value for k, v in children.items()}
        return YNode(values, self.mark(node), path, key_mark, children)

    def _merge_sources(self, node: Node, path: str) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        entries = []
        for source in sources:
            if isinstance(source, MappingNode):
                entries += source.value
            else:
                self.problems.append(
                    Problem(
                        self.mark(source),
                        path,
                        "a merge key (<<) needs a mapping",
                        "expected <<: *anchor of a mapping",
                    )
                )
        return entries

    def _duplicate(self, mark: Mark, path: str, name: str, first: Mark) -> None:
        self.problems.append(
            Problem(
                mark,
                child_path(path, name),
                f"duplicate key {quoted_key(name)} (first at line {first.line})",
                "expected each key once in a mapping",
            )
        )


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")
)


def _key_text(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _plain(value: Any) -> Any:
    """ruamel's scalar subclasses -> plain Python values (a tagged scalar stays text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return value
    return str(getattr(value, "value", value))


def describe(value: Any) -> str:
    """How a YAML value reads to a person, for 'is X; expected Y' messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a yes/no value)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime.date):
        return f"the date {value}"
    return f"{value!r}"


def read_text(path: Path) -> str:
    """The file's text; raises OSError or UnicodeDecodeError for the caller to report."""
    return path.read_bytes().decode("utf-8-sig")
