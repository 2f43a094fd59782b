"""YAML text -> a tree of `YNode`s that remember where each key and value was written.

ruamel.yaml composes the text into nodes that keep 0-based line/column marks; this module turns
them into 1-based `Mark`s and key paths (`cues[3].levels.x.dimmer`) so every later check can
point at the exact spot in the file.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import ComposerError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.reader import ReaderError

from cuenode.show.model import Mark, Problem


class YNode:
    """One value from the file: a mapping (dict of YNode), a list of YNode, or a plain scalar.

    Slotted, and its key path is worked out only when asked for (from its parent and key):
    a 10 MB show has about a million of them."""

    __slots__ = ("value", "mark", "key_mark", "children", "_path", "_parent", "_key")

    def __init__(
        self,
        value: Any,
        mark: Mark,
        path: str | None,
        key_mark: Mark | None = None,
        children: dict[str, YNode] | list[YNode] | None = None,
        parent: YNode | None = None,
        key: str | int | None = None,
    ) -> None:
        self.value = value
        self.mark = mark  # where the value starts
        self.key_mark = key_mark  # for a mapping entry: where its key is written
        self.children = children
        self._path = path  # None: worked out from parent and key when asked
        self._parent = parent
        self._key = key

    @property
    def path(self) -> str:
        """Key path from the top of the file, e.g. "fixtures.spot1.address"."""
        if self._path is None:
            parent = self._parent.path if self._parent is not None else ""
            key = self._key
            if self._parent is None and not key:
                self._path = ""  # the top of the file
                return ""
            self._path = (
                f"{parent}[{key}]" if isinstance(key, int) else child_path(parent, key or "")
            )
        return self._path

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

    def __repr__(self) -> str:
        return f"YNode({excerpt(self.value)}, {self.mark}, {self.path!r})"


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
    parser = None
    try:
        _, parser = _yaml().get_constructor_parser(text)
        builder = _Builder(path, parser)
        return builder.document(), builder.problems
    except MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, path, text)]
    except ReaderError as exc:  # a character YAML does not allow, e.g. a NUL byte
        return None, [_reader_problem(exc, text, path)]
    except _Refused as exc:
        return None, [exc.problem]
    except YAMLError as exc:  # no mark: cannot do better than the top of the file
        what = excerpt(" ".join(str(exc).split()), 200)  # one line, whatever the library wrote
        return None, [
            Problem(Mark(path, 1, 1), "(file)", f"YAML error: {what}", "expected valid YAML")
        ]
    except RecursionError:  # _nesting_problem should have caught it first
        return None, [
            Problem(
                Mark(path, 1, 1),
                "(file)",
                "nested too deeply",
                "expected a show nested a few levels deep",
            )
        ]
    finally:
        if parser is not None:
            parser.dispose()


# Aliases (*name) may stand for at most this many values in all (each alias counts every
# value it repeats, nested aliases included), beyond the number of values written in the
# file: a "billion laughs" file of a few lines would otherwise expand to billions of values.
ALIAS_BUDGET = 100_000

TAG_EXPECTED = "expected plain values, without tags"
MAX_NUMBER_CHARS = 30  # a longer number is a mistake (and Python refuses 4,300+ digit ints)

_CORE_SCALAR = re.compile(
    r"(?P<null>~|null|Null|NULL|)"
    r"|(?P<bool>true|True|TRUE|false|False|FALSE)"
    r"|(?P<int>[-+]?[0-9]+)"
    r"|(?P<oct>0o[0-7]+)"
    r"|(?P<hex>0x[0-9a-fA-F]+)"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<inf>[-+]?\.(?:inf|Inf|INF))"
    r"|(?P<nan>\.(?:nan|NaN|NAN))"
)
_TAG_KINDS = {
    "tag:yaml.org,2002:null": ("null",),
    "tag:yaml.org,2002:bool": ("bool",),
    "tag:yaml.org,2002:int": ("int", "oct", "hex"),
    "tag:yaml.org,2002:float": ("float", "inf", "nan", "int"),
}
_STR_TAGS = frozenset(("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp", "!"))
_COLLECTION_TAGS = frozenset(("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "!"))


def _short_tag(tag: str) -> str:
    """'tag:yaml.org,2002:set' -> '!!set', as it is written in the file."""
    return "!!" + tag[18:] if tag.startswith("tag:yaml.org,2002:") else tag


def _core_value(kind: str, text: str) -> Any:
    """A plain scalar's value by the YAML 1.2 core schema (no `1_000`, no `yes`, no dates)."""
    if kind == "null":
        return None
    if kind == "bool":
        return text[0] in "tT"
    if kind == "int":
        return int(text)
    if kind == "oct":
        return int(text[2:], 8)
    if kind == "hex":
        return int(text[2:], 16)
    if kind == "nan":
        return math.nan
    if kind == "inf":
        return -math.inf if text[0] == "-" else math.inf
    return float(text)


class _Refused(Exception):
    """The file is refused as a whole: its one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_new_mark = tuple.__new__  # Mark(...) without NamedTuple's Python-level __new__: a million calls
_PLAIN_SEEN: dict[str, tuple[str, Any]] = {}  # plain scalar text -> (kind, value): text repeats


class _Builder:
    """YAML parser events -> YNodes, in one pass (no intermediate node tree: that tree and
    its marks were most of the time and memory of loading a big show)."""

    def __init__(self, path: str, parser: Any) -> None:
        self.path = path
        self.get = parser.get_event
        self.problems: list[Problem] = []
        self.anchors: dict[str, YNode] = {}
        self.written = 0  # values written in the file so far
        self.flow_depth = 0  # [ and { open around the value being built
        self.repeated = 0  # values repeated by aliases so far

    def mark(self, event: Any) -> Mark:
        m = event.start_mark
        return _new_mark(Mark, (self.path, m.line + 1, m.column + 1))

    def document(self) -> YNode | None:
        self.get()  # stream start
        event = self.get()
        if isinstance(event, StreamEndEvent):
            return YNode(None, Mark(self.path, 1, 1), "")  # an empty file
        root = self.node(self.get(), None, "", None)
        self.get()  # document end
        event = self.get()
        if not isinstance(event, StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream",
                None,
                "but found another document",
                event.start_mark,
            )
        return root

    def node(
        self, event: Any, parent: YNode | None, key: str | int, key_mark: Mark | None
    ) -> YNode:
        kind = type(event)
        before = len(self.problems)
        if kind is ScalarEvent:
            made = self.scalar(event, key_mark)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            made = self.collection(event, _placed(self.mark(event), key_mark, parent, key))
        else:  # an alias
            return self.alias(event, parent, key, key_mark)
        self.written += 1
        made._parent, made._key = parent, key
        if len(self.problems) != before:
            self.place(before, made.path)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = made
        return made

    def place(self, start: int, path: str) -> None:
        """Give the problems found since `start` without a key path (scalar values) `path`."""
        for i in range(start, len(self.problems)):
            if not self.problems[i].key_path:
                self.problems[i] = replace(self.problems[i], key_path=path or "(top level)")

    def scalar(self, event: Any, key_mark: Mark | None) -> YNode:
        mark = self.mark(event)
        text = event.value
        if text == "" and not event.style and key_mark is not None:
            mark = key_mark  # an empty value: libyaml and the pure parser place it apart
        made = YNode(self.scalar_value(event, mark), mark, "", key_mark)
        made._path = None
        return made

    def scalar_value(self, event: Any, mark: Mark) -> Any:
        text = event.value
        tag = None if event.ctag is None else event.tag
        if tag is None and event.implicit[0]:  # plain: resolved by the core schema
            seen = _PLAIN_SEEN.get(text)
            if seen is None:
                seen = self.resolve(text, mark)
            return seen[1]
        if tag is None or tag in _STR_TAGS:
            return text
        if tag in _TAG_KINDS:
            match = _CORE_SCALAR.fullmatch(text)
            if match is not None and match.lastgroup in _TAG_KINDS[tag]:
                return _core_value(match.lastgroup, text)
            self.problem(
                mark,
                f"{describe(text)} is not a valid {_short_tag(tag)}",
                "expected a value of that type, or no tag",
            )
            return text
        self.problem(
            mark,
            f"unsupported YAML tag {excerpt(_short_tag(tag))}",
            "expected plain values, without tags",
        )
        return text

    def resolve(self, text: str, mark: Mark) -> tuple[str, Any]:
        match = _CORE_SCALAR.fullmatch(text) if len(text) < 10_000 else None
        if match is not None and len(text) > MAX_NUMBER_CHARS:  # also keeps int() quick
            self.problem(
                mark,
                f"a number of {len(text):,} characters is too long",
                f"expected a number of at most {MAX_NUMBER_CHARS} characters",
            )
            return ("str", text)
        if len(text) >= 80:
            return ("str", text)  # long texts are mostly unique: not remembered
        if match is None:
            seen = ("str", text)  # keys and words repeat a lot: one shared string each
        else:
            kind = match.lastgroup or "str"
            seen = (kind, _core_value(kind, text))
        if len(_PLAIN_SEEN) > 100_000:  # bounded, whatever a process loads
            _PLAIN_SEEN.clear()
        _PLAIN_SEEN[text] = seen
        return seen

    def problem(self, mark: Mark, message: str, expected: str = "") -> None:
        # key paths are filled in by Problems later: a builder problem is placed by its mark
        self.problems.append(Problem(mark, "", message, expected))

    def collection_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is not None and tag not in _COLLECTION_TAGS:
            self.problem(
                self.mark(event),
                f"unsupported YAML tag {excerpt(_short_tag(tag))}",
                TAG_EXPECTED,
            )

    def collection(self, event: Any, made: YNode) -> YNode:
        flow = bool(event.flow_style)
        if flow:
            self.flow_depth += 1
            if self.flow_depth > MAX_FLOW_DEPTH:
                raise _Refused(
                    Problem(
                        made.mark,
                        "(file)",
                        f"brackets nested more than {MAX_FLOW_DEPTH} deep",
                        "expected a show nested a few levels deep",
                    )
                )
        if type(event) is MappingStartEvent:
            self.mapping(event, made)
        else:
            self.sequence(event, made)
        if flow:
            self.flow_depth -= 1
        return made

    def sequence(self, event: Any, made: YNode) -> YNode:
        self.collection_tag(event)
        items: list[YNode] = []
        made.children = items
        get = self.get
        event = get()
        while type(event) is not SequenceEndEvent:
            items.append(self.node(event, made, len(items), None))
            event = get()
        made.value = [item.value for item in items]
        return made

    def mapping(self, event: Any, made: YNode) -> YNode:
        self.collection_tag(event)
        children: dict[str, YNode] = {}
        made.children = children
        merged: list[tuple[str, YNode]] = []  # entries from `<<: *anchor` merge keys
        get, path, seen = self.get, self.path, _PLAIN_SEEN
        event = get()
        while type(event) is not MappingEndEvent:
            m = event.start_mark
            kmark = _new_mark(Mark, (path, m.line + 1, m.column + 1))
            plain = type(event) is ScalarEvent and event.ctag is None and event.implicit[0]
            if plain and event.value == "<<":
                merged += self.merge_sources(get(), made)
                event = get()
                continue
            known = seen.get(event.value) if plain else None
            if known is not None and known[0] == "str":  # the usual key: seen before
                name = known[1]
                self.written += 1
            else:
                name = self.key(event, kmark, made)
            event = get()
            if name in children:
                self.duplicate(kmark, made, name, children[name].where)
                self.skip(event)
            elif (  # the usual value: a plain scalar seen before (quick path, same result)
                type(event) is ScalarEvent
                and event.ctag is None
                and event.anchor is None
                and event.implicit[0]
                and event.value
                and (known := seen.get(event.value)) is not None
            ):
                m = event.start_mark
                vmark = _new_mark(Mark, (path, m.line + 1, m.column + 1))
                children[name] = YNode(known[1], vmark, None, kmark, None, made, name)
                self.written += 1
            else:
                children[name] = self.node(event, made, name, kmark)
            event = get()
        for name, source in merged:  # keys written in the mapping itself win
            if name not in children:
                children[name] = self.repeat(source, made, name, source.key_mark)
        made.value = {k: v.value for k, v in children.items()}
        return made

    def key(self, event: Any, mark: Mark, parent: YNode) -> str:
        """A mapping key as text (a key that is itself a list or mapping reads as '?')."""
        if type(event) is ScalarEvent:
            self.written += 1
            before = len(self.problems)
            value = self.scalar_value(event, mark)
            if len(self.problems) != before:
                self.place(before, parent.path)
            return value if type(value) is str else _key_text(value)
        self.skip(event)
        return "?"

    def skip(self, event: Any) -> None:
        """Read past a value that is not kept (a repeated key's): still checked for syntax."""
        depth = 0
        while True:
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
            elif kind is AliasEvent and event.anchor not in self.anchors:
                self.undefined(event)
            if depth == 0:
                return
            event = self.get()

    def merge_sources(self, event: Any, parent: YNode) -> list[tuple[str, YNode]]:
        source = self.node(event, parent, "<<", self.mark(event))
        sources = source.children if isinstance(source.children, list) else [source]
        entries: list[tuple[str, YNode]] = []
        for item in sources:
            if isinstance(item.children, dict):
                entries += item.children.items()
            else:
                self.problems.append(
                    Problem(
                        item.mark,
                        child_path(parent.path, "<<"),
                        "a merge key (<<) needs a mapping",
                        "expected <<: *anchor of a mapping",
                    )
                )
        return entries

    def alias(
        self, event: Any, parent: YNode | None, key: str | int, key_mark: Mark | None
    ) -> YNode:
        target = self.anchors.get(event.anchor)
        if target is None:
            self.undefined(event)
        assert target is not None
        budget = self.written + ALIAS_BUDGET - self.repeated
        if _size(target, budget) > budget:
            raise _Refused(
                Problem(
                    self.mark(event),
                    "(file)",
                    f"alias *{excerpt(event.anchor, 32)[1:-1]} repeats too much: aliases may "
                    f"stand for at most {ALIAS_BUDGET:,} values more than the file writes",
                    "expected a show without deeply nested aliases (a 'billion laughs' file?)",
                )
            )
        return self.repeat(target, parent, key, key_mark)

    def undefined(self, event: Any) -> None:
        raise ComposerError(
            None, None, f"found undefined alias {excerpt(event.anchor, 32)}", event.start_mark
        )

    def repeat(
        self, source: YNode, parent: YNode | None, key: str | int, key_mark: Mark | None
    ) -> YNode:
        """A copy of an anchored value at a new place (marks stay where it is written)."""
        self.repeated += 1
        made = YNode(source.value, source.mark, "", key_mark)
        made._path, made._parent, made._key = None, parent, key
        if isinstance(source.children, dict):
            made.children = {
                k: self.repeat(c, made, k, c.key_mark) for k, c in source.children.items()
            }
        elif isinstance(source.children, list):
            made.children = [self.repeat(c, made, i, None) for i, c in enumerate(source.children)]
        return made

    def duplicate(self, mark: Mark, parent: YNode, name: str, first: Mark) -> None:
        self.problems.append(
            Problem(
                mark,
                child_path(parent.path, name),
                f"duplicate key {quoted_key(name)} (first at line {first.line})",
                "expected each key once in a mapping",
            )
        )


def _placed(mark: Mark, key_mark: Mark | None, parent: YNode | None, key: str | int) -> YNode:
    """A new, still empty YNode that already knows its place (so its path can be asked)."""
    made = YNode(None, mark, "", key_mark)
    made._path, made._parent, made._key = None, parent, key
    return made


def _size(node: YNode, limit: int) -> int:
    """Values in a subtree, counting stops a little past `limit` (so a bomb is cheap)."""
    count, stack = 0, [node]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        children = item.children
        if isinstance(children, dict):
            stack.extend(children.values())
        elif isinstance(children, list):
            stack.extend(children)
    return count


MAX_FLOW_DEPTH = 64
MAX_INDENT = 200
# more than MAX_INDENT leading spaces and block "- " / "? " indicators on one line
# a line that starts with more than MAX_INDENT of ' ', '-', '?': found fast (literal '\n' first)
_MAYBE_TOO_INDENTED = re.compile(r"\n[ ?-]{" + str(MAX_INDENT + 1) + "}")
_TOO_INDENTED = re.compile(r"^(?: |-(?= |$)|\?(?= )){" + str(MAX_INDENT + 1) + "}", re.M)


def _nesting_problem(text: str, path: str) -> Problem | None:
    """Absurdly deep indentation is refused before parsing (no show needs more than a few
    levels, and the parser and Python's recursion limit should never meet such a file).
    Brackets nested too deep are refused while building (`_Builder.node`)."""
    if _MAYBE_TOO_INDENTED.search("\n" + text[: MAX_INDENT + 1]) is None and (
        _MAYBE_TOO_INDENTED.search(text) is None  # quick: only lines that could be too deep
    ):
        return None
    deep = _TOO_INDENTED.search(text)
    if deep is not None:
        return _position_problem(
            text,
            deep.end(),
            path,
            f"indented more than {MAX_INDENT} columns",
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
    """The parser: libyaml's C parser (ruamel.yaml.clib) when installed. Only its events are
    used (with their line/column marks); values are resolved here by the YAML 1.2 core schema
    (so `on`/`off`/`yes` are text, `1_0` is text)."""
    return YAML(typ="safe")


def pure_python_yaml() -> YAML:
    """The same loader on ruamel's pure-Python parser (for comparisons and benchmarks)."""
    return YAML(typ="safe", pure=True)


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


def _key_text(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def describe(value: Any) -> str:
    """How a YAML value reads to a person, for 'is X; expected Y' messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a yes/no value)"
    if isinstance(value, int | float):
        return f"the number {excerpt(value)}"
    if isinstance(value, str):
        return f"the text {excerpt(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime.date):
        return f"the date {value}"
    return f"{value!r}"


EXCERPT_CHARS = 40


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A value as a problem line quotes it: text in quotes, at most `limit` characters (with
    its full length when cut), control characters escaped, so no value can flood or break
    the one-line format."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return repr(value[: limit - 3]) + f"... ({len(value):,} characters)"
    if isinstance(value, bool) or value is None or not isinstance(value, int | float):
        return excerpt(str(value), limit) if isinstance(value, datetime.date) else repr(value)
    if isinstance(value, int) and value.bit_length() > 96:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    return str(value)


class TooLarge(Exception):
    """A file is larger than the reader allows."""


def read_limited(path: Path, limit: int) -> str:
    """The text of a file of at most `limit` bytes (never more is read, whatever the file
    is); raises TooLarge, OSError or UnicodeDecodeError for the caller to report."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size  # read(n) sets aside n bytes: ask for what is there
        data = f.read(min(size, limit) + 1 if size else limit + 1)  # 0: /proc and the like
    if len(data) > limit:
        raise TooLarge(path)
    return data.decode("utf-8-sig")


def read_text(path: Path) -> str:
    """The file's text; raises OSError or UnicodeDecodeError for the caller to report."""
    return path.read_bytes().decode("utf-8-sig")
