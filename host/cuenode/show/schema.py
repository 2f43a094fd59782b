"""Problem collection and the small schema helpers every section of a show file uses."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cuenode.show.model import Mark, Problem
from cuenode.show.values import BadValue, check_name
from cuenode.show.yaml import YNode, describe, quoted_key

T = TypeVar("T")
# The part after "; " says what is expected: it reads "expected ..." unless it is a suggestion.
EXPECTED_LEADS = ("expected", "did you mean")


def seen_at(mark: Mark, here: Mark) -> str:
    """Where something was written, as seen from a problem at `here`: 'line 12' or a path."""
    return f"line {mark.line}" if mark.path == here.path else f"{mark.path} line {mark.line}"


class Problems:
    """Every problem found so far; sorted by file (main file first) and position at the end."""

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self._file_order: dict[str, int] = {}

    def add_file(self, path: str) -> None:
        self._file_order.setdefault(path, len(self._file_order))

    def error(self, mark: Mark, key_path: str, message: str, expected: str = "") -> None:
        if expected and not expected.startswith(EXPECTED_LEADS):
            expected = f"expected {expected}"
        self._items.append(Problem(mark, key_path or "(top level)", message, expected))

    def extend(self, problems: list[Problem]) -> None:
        self._items.extend(problems)

    def at(self, node: YNode, message: str, expected: str = "") -> None:
        """A problem with a value: points at the value."""
        self.error(node.mark, node.path, message, expected)

    def at_entry(self, node: YNode, message: str, expected: str = "") -> None:
        """A problem with an entry as a whole: points at its key (or list item)."""
        self.error(node.where, node.path, message, expected)

    def sorted(self) -> list[Problem]:
        def key(p: Problem) -> tuple[int, int, int, str]:
            return (self._file_order.get(p.mark.path, 99), p.mark.line, p.mark.col, p.message)

        return sorted(set(self._items), key=key)

    def __len__(self) -> int:
        return len(self._items)


def suggest(word: str, choices: Iterable[str], what: str = "one of") -> str:
    """'did you mean X?' when something is close, else the list of valid choices."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if not options:
        return f"expected {what}, but none are defined"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"expected {what}: {shown}"


def mapping(
    out: Problems,
    node: YNode,
    keys: Iterable[str],
    required: Iterable[str] = (),
    expected: str = "",
) -> dict[str, YNode] | None:
    """The known entries of a mapping node; reports a non-mapping, unknown and missing keys."""
    allowed = list(keys)
    if not node.is_map:
        out.at(
            node,
            f"is {describe(node.value)}",
            expected or f"a mapping with keys: {', '.join(allowed)}",
        )
        return None
    assert isinstance(node.children, dict)
    known = {}
    meant = set()  # keys an unknown key was probably meant to be: not also reported missing
    for name, child in node.children.items():
        if name in allowed:
            known[name] = child
            continue
        hint = suggest(name, allowed)
        out.error(child.where, child.path, f"unknown key {quoted_key(name)}", hint)
        meant.add(hint.removeprefix("did you mean ").strip("'?"))
    for name in required:
        if name not in known and name not in meant:
            out.at_entry(node, f"missing key {name!r}", f"'{name}:' in this mapping")
    return known


def entries(out: Problems, node: YNode, expected: str) -> dict[str, YNode]:
    """A mapping whose keys are names the user chooses (fixtures, nodes, relays...)."""
    if node.value is None:
        return {}
    if not node.is_map:
        out.at(node, f"is {describe(node.value)}", expected)
        return {}
    assert isinstance(node.children, dict)
    return node.children


def items(out: Problems, node: YNode, expected: str) -> list[YNode]:
    if node.value is None:
        return []
    if not node.is_list:
        out.at(node, f"is {describe(node.value)}", expected)
        return []
    assert isinstance(node.children, list)
    return node.children


def parse(out: Problems, node: YNode | None, parser: Callable[..., T], *args: Any) -> T | None:
    """Run a value parser on a node; a BadValue becomes a problem at the value."""
    if node is None:
        return None
    try:
        return parser(node.value, *args)
    except BadValue as exc:
        out.at(node, exc.message, exc.expected)
        return None


def check_key_name(out: Problems, node: YNode, name: str, what: str) -> bool:
    try:
        check_name(name, what)
    except BadValue as exc:
        out.error(node.where, node.path, exc.message, exc.expected)
        return False
    return True
