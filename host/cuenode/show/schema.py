"""Problem collection and the small schema helpers every section of a show file uses."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cuenode.show.model import Mark, Problem
from cuenode.show.values import BadValue, check_name
from cuenode.show.yaml import YNode, describe, excerpt, key_text, quoted_key

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
        # an include could not be read: fixture types it may define are not "unknown"
        self.types_incomplete = False
        global _suggest_budget
        _suggest_budget = SUGGEST_BUDGET  # one budget per show checked

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
        """By file and position; the same on every run (ties keep the order found).

        One spot, one line: of the problems at one mark with one key path only the first
        found is kept (a number too long for YAML is not also 'not a level'), and a problem
        repeated at one mark under other key paths (a value merged into several places with
        `<<: *anchor`) is reported once."""
        kept: dict[tuple[Mark, str], Problem] = {}
        said: set[tuple[Mark, str, str]] = set()
        for p in self._items:
            if (p.mark, p.key_path) in kept or (p.mark, p.message, p.expected) in said:
                continue
            kept[(p.mark, p.key_path)] = p
            said.add((p.mark, p.message, p.expected))
        order = self._file_order
        ranked = sorted(kept.values(), key=lambda p: (order.get(p.mark.path, 99), p.mark[1:]))
        return [_one_line(p) for p in ranked]

    def __len__(self) -> int:
        return len(self._items)


MAX_PART = 200  # characters of a key path, message or expectation in a problem line
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), 127]}


def _clip(text: str) -> str:
    text = text.translate(_CONTROL)
    return text if len(text) <= MAX_PART else text[: MAX_PART - 3] + "..."


def _one_line(p: Problem) -> Problem:
    """The last guard of the one-line format: no control characters, no flood of text."""
    parts = (p.key_path, p.message, p.expected)
    clipped = tuple(_clip(part) for part in parts)
    return p if clipped == parts else Problem(p.mark, *clipped)


def suggest(word: str, choices: Iterable[str], what: str = "one of") -> str:
    """'did you mean X?' when something is close, else the list of valid choices."""
    options = _sorted_options(choices)
    close = closest(word, options)
    if close is not None:
        return f"did you mean {excerpt(close)}?"
    if not options:
        return f"expected {what}, but none are defined"
    shown = ", ".join(excerpt(o) if key_text(o) != o else o for o in options[:12])
    return f"expected {what}: {shown}" + (", ..." if len(options) > 12 else "")


SUGGEST_BUDGET = 300_000  # comparisons per show (about 1 s): past that, no "did you mean"
_suggest_budget = SUGGEST_BUDGET
_CLOSEST: dict[tuple[str, int], tuple[tuple[str, ...], str | None]] = {}


def closest(word: str, options: tuple[str, ...]) -> str | None:
    """The most similar option (difflib ratio >= 0.6); on a tie the first in sorted order, so
    'parl' suggests 'par1', not 'par2'. A mistake repeated in many places is worked out once;
    in a long list only options of about the same length are compared, and a show gets a
    budget of comparisons (a hostile file must not make this quadratic)."""
    global _suggest_budget
    key = (word, id(options))  # a tuple's hash is not kept: hashing 10,000 names each time is not
    known = _CLOSEST.get(key)
    if known is not None and known[0] is options:
        return known[1]
    if len(word) > 64 or _suggest_budget <= 0:
        return None
    compared = options
    if len(options) > 500:
        compared = tuple(o for o in options if abs(len(o) - len(word)) <= 2)[:2000]
    _suggest_budget -= len(options) // 10 + len(compared)  # filtering costs too
    if len(_CLOSEST) > 4096:
        _CLOSEST.clear()
    best = _most_similar(word, compared)
    _CLOSEST[key] = (options, best)  # holding `options` keeps its id its own
    return best


_SORTED: dict[int, tuple[object, tuple[str, ...]]] = {}


def _sorted_options(choices: Iterable[str]) -> tuple[str, ...]:
    """Sorted choices, sorted once per collection (the fixtures of a show are asked about
    at every unknown name)."""
    known = _SORTED.get(id(choices))
    if known is not None and known[0] is choices and len(known[1]) == len(choices):  # type: ignore[arg-type]
        return known[1]
    options = tuple(sorted(choices))
    if isinstance(choices, dict | set | frozenset | tuple):
        if len(_SORTED) > 256:
            _SORTED.clear()
        _SORTED[id(choices)] = (choices, options)
    return options


def _most_similar(word: str, options: tuple[str, ...]) -> str | None:
    matcher = difflib.SequenceMatcher(b=word)
    best, best_ratio = None, 0.6
    for option in options:
        matcher.set_seq1(option)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio or (ratio == best_ratio and best is None):
            best, best_ratio = option, ratio
    return best


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
    known: dict[str, YNode] = {}
    # a close unknown key stands in for a known key that is not written
    misspelt: dict[str, YNode] = {}
    for name, child in node.children.items():
        if name in allowed:
            known[name] = child
            continue
        meant = closest(name, tuple(sorted(allowed)))
        hint = f"did you mean {meant!r}?" if meant else suggest(name, allowed)
        out.error(child.where, child.path, f"unknown key {quoted_key(name)}", hint)
        if meant is not None and meant not in node.children:
            misspelt.setdefault(meant, child)
    # One mistake, one line: `fixture:` for `fixtures:` is read as `fixtures:` (its own
    # problems still count), so it is neither "missing" nor the cause of an error at every
    # use of a fixture.
    known.update(misspelt)
    for name in required:
        if name not in known:
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
