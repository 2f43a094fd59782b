"""YAML text -> a tree of `YNode`s that remember where each key and value was written.

The round-trip loader of ruamel.yaml keeps 0-based line/column marks on every mapping and
sequence; this module turns them into 1-based `Mark`s and key paths (`cues[3].levels.x.dimmer`)
so every later check can point at the exact spot in the file.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from cuenode.model import Mark, Problem


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


def key_text(key: str) -> str:
    """A key as problems show it: plain names as they are, anything odd quoted and shortened
    (so a key that is really a mis-indented sentence cannot garble the one-line format)."""
    if PLAIN_KEY_RE.match(key):
        return key
    return repr(key if len(key) <= 40 else key[:37] + "...")


def child_path(parent: str, key: str) -> str:
    return f"{parent}.{key_text(key)}" if parent else key_text(key)


def load_yaml(text: str, path: str) -> tuple[YNode | None, Problem | None]:
    """Parse one YAML document; a syntax error comes back as a Problem with its line:col."""
    fast = _load_fast(text, path)
    if fast is not None:
        return fast, None
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        return None, _syntax_problem(exc, path)
    except YAMLError as exc:  # no mark: cannot do better than the top of the file
        return None, Problem(
            Mark(path, 1, 1), "(file)", f"YAML error: {exc}", "expected valid YAML"
        )
    return wrap(data, Mark(path, 1, 1), "", None), None


STR_TAG = "tag:yaml.org,2002:str"


class _Unusual(Exception):
    """Something the fast path leaves to the round-trip loader (errors, merge keys, ...)."""


def _load_fast(text: str, path: str) -> YNode | None:
    """The same tree as the round-trip loader builds, from libyaml's C composer (~7x faster
    on a 1,000-cue show: docs/performance.md). None when ruamel.yaml.clib is missing or the
    text has anything unusual (any error, a duplicate or merge key, a tag): the round-trip
    loader then handles it and words any error exactly as before."""
    yaml = YAML(typ="safe")
    if yaml.Parser.__name__ != "CParser" or "%YAML" in text:
        return None
    yaml.Resolver = _Yaml12Resolver
    try:
        node = yaml.compose(text)
        if node is None:
            return YNode(None, Mark(path, 1, 1), "", None)
        return _wrap_node(yaml.constructor, node, Mark(path, 1, 1), "", None)
    except (YAMLError, _Unusual, ValueError, TypeError):
        return None


def _node_mark(node: Node, path: str) -> Mark:
    return Mark(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _wrap_node(constructor: Any, node: Node, mark: Mark, path: str, key_mark: Mark | None) -> YNode:
    if isinstance(node, MappingNode):
        children: dict[str, YNode] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unusual
            name = _key_text(_scalar(constructor, key_node))
            if name in children:
                raise _Unusual
            children[name] = _wrap_node(
                constructor,
                value_node,
                _node_mark(value_node, mark.path),
                child_path(path, name),
                _node_mark(key_node, mark.path),
            )
        return YNode({k: v.value for k, v in children.items()}, mark, path, key_mark, children)
    if isinstance(node, SequenceNode):
        items = [
            _wrap_node(constructor, item, _node_mark(item, mark.path), f"{path}[{i}]", None)
            for i, item in enumerate(node.value)
        ]
        return YNode([item.value for item in items], mark, path, key_mark, items)
    return YNode(_plain(_scalar(constructor, node)), mark, path, key_mark)


class _Yaml12Resolver(VersionedResolver):
    """The safe loader's resolver, fixed to YAML 1.2 like the round-trip loader (texts with a
    %YAML directive take the round-trip path). ruamel otherwise looks the version up for every
    scalar through a caught AttributeError: a third of the fast path's time."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)


def _scalar(constructor: Any, node: Node) -> Any:
    ctag = node.ctag  # a resolved tag has no handle: its suffix is the tag (node.tag is slow)
    tag = (ctag.suffix if ctag.handle is None else str(ctag)) or ""
    if tag == STR_TAG:
        return node.value  # what construct_object gives for a str, without its bookkeeping
    if not tag.startswith("tag:yaml.org,2002:"):
        raise _Unusual  # a tag of the user's own: the round-trip loader keeps it as text
    return constructor.construct_object(node, deep=True)


def _syntax_problem(exc: MarkedYAMLError, path: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = exc.problem or exc.context or "not valid YAML"
    context = exc.context_mark
    if exc.context and exc.problem and exc.problem.startswith("but "):
        what = f"{exc.context}, {exc.problem}"  # ruamel splits one sentence in two
    elif exc.context and exc.problem and context is not None:
        what += f" ({exc.context} started at line {context.line + 1})"
    return Problem(
        Mark(path, line, col),
        "(syntax)",
        f"YAML syntax error: {what}",
        "expected valid YAML (check indentation, colons, quotes and brackets)",
    )


def wrap(data: Any, mark: Mark, path: str, key_mark: Mark | None) -> YNode:
    if isinstance(data, CommentedMap):
        return _wrap_map(data, mark, path, key_mark)
    if isinstance(data, CommentedSeq):
        return _wrap_seq(data, mark, path, key_mark)
    return YNode(_plain(data), mark, path, key_mark)


def _wrap_map(data: CommentedMap, mark: Mark, path: str, key_mark: Mark | None) -> YNode:
    children: dict[str, YNode] = {}
    for key, value in data.items():
        name = _key_text(key)
        kline, kcol = data.lc.key(key)
        vline, vcol = data.lc.value(key)
        children[name] = wrap(
            value,
            Mark(mark.path, vline + 1, vcol + 1),
            child_path(path, name),
            Mark(mark.path, kline + 1, kcol + 1),
        )
    node = YNode(data, mark, path, key_mark, children)
    node.value = {k: v.value for k, v in children.items()}
    return node


def _wrap_seq(data: CommentedSeq, mark: Mark, path: str, key_mark: Mark | None) -> YNode:
    items = []
    for i, value in enumerate(data):
        line, col = data.lc.item(i)
        items.append(wrap(value, Mark(mark.path, line + 1, col + 1), f"{path}[{i}]", None))
    return YNode([item.value for item in items], mark, path, key_mark, items)


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
