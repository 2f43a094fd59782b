"""Groups and ranges: names for sets of fixtures, usable wherever a fixture is.

    groups:
      foh: foh[1-8]                 # a range: foh1, foh2, ... foh8
      electrics: [lx1_[1-8], lx2_[1-8]]
      warm: [foh, lx1_2, lx1_5]     # groups of groups and single fixtures
      evens: pars[2,4,6-8]          # a range list: pars2, pars4, pars6, pars7, pars8

A *target* is a fixture name, a group name or a range written in place (`pars[1-12]`); it
stands for its fixtures in the order written (duplicates dropped, first place kept). Groups are
resolved once, here; the compiler never sees them (a cue's levels are per fixture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cuenode.show.schema import Problems, check_key_name, entries, suggest
from cuenode.show.types import FixtureDraft
from cuenode.show.yaml import YNode, describe

RANGE_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_-]{0,31})\[([0-9,\s-]+)\]\Z")
RANGE_PART_RE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?\Z")
MAX_RANGE = 512  # a universe holds at most 512 fixtures: more is a typo
GROUP_EXPECTED = "a fixture, a group, a range like pars[1-12], or a list of them"
TARGET_EXPECTED = "a fixture, a group from groups:, or a range like pars[1-12]"


class BadTarget(Exception):
    def __init__(self, message: str, expected: str = TARGET_EXPECTED) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


@dataclass
class Targets:
    """Resolves target names (fixtures, groups, ranges) to fixture names."""

    fixtures: dict[str, FixtureDraft | None]
    groups: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # None: broken

    def resolve(self, name: str) -> tuple[str, ...] | None:
        """The fixtures `name` stands for; None when a broken group or fixture (already
        reported where it is defined); raises BadTarget for an unknown name or bad range."""
        if name in self.fixtures:
            return (name,) if self.fixtures[name] is not None else None
        if name in self.groups:
            return self.groups[name]
        if "[" in name:
            return self._range(name)
        if not self.groups:
            choices = suggest(name, self.fixtures, "a fixture from the fixtures section")
            raise BadTarget(f"unknown fixture {name!r}", choices)
        raise BadTarget(
            f"unknown fixture or group {name!r}",
            suggest(name, {*self.fixtures, *self.groups}, "a fixture or a group"),
        )

    def _range(self, text: str) -> tuple[str, ...]:
        prefix, numbers = parse_range(text)
        names = [f"{prefix}{n}" for n in numbers]
        missing = [n for n in names if n not in self.fixtures]
        if missing:
            raise BadTarget(
                f"range {text!r} names {missing[0]!r}, which is not a fixture",
                "a range over fixtures that exist",
            )
        return tuple(n for n in names if self.fixtures[n] is not None)

    def drafts(self, names: tuple[str, ...]) -> list[FixtureDraft]:
        return [d for n in names if (d := self.fixtures.get(n)) is not None]


def parse_range(text: str) -> tuple[str, list[int]]:
    """'pars[1-3,7]' -> ('pars', [1, 2, 3, 7]); raises BadTarget when malformed."""
    match = RANGE_RE.match(text)
    if match is None:
        raise BadTarget(f"{text!r} is not a range", "a range like pars[1-12] or pars[1,3,5-8]")
    prefix, body = match.groups()
    numbers: list[int] = []
    for part in body.split(","):
        numbers.extend(_range_part(text, part))
        if len(numbers) > MAX_RANGE:
            raise BadTarget(f"range {text!r} is too long", f"at most {MAX_RANGE} fixtures")
    return prefix, numbers


def _range_part(text: str, part: str) -> range:
    bounds = RANGE_PART_RE.match(part)
    if bounds is None:
        raise BadTarget(f"{text!r} is not a range", "a range like pars[1-12] or pars[1,3,5-8]")
    first = int(bounds.group(1))
    last = int(bounds.group(2) or first)
    if last < first:
        raise BadTarget(
            f"range {text!r} counts down", f"the lower number first, e.g. [{last}-{first}]"
        )
    if last - first >= MAX_RANGE:
        raise BadTarget(f"range {text!r} is too long", f"at most {MAX_RANGE} fixtures")
    return range(first, last + 1)


# --- the groups section ----------------------------------------------------------------------


def parse_groups(
    out: Problems, node: YNode | None, fixtures: dict[str, FixtureDraft | None]
) -> Targets:
    """Every group of the show resolved to its fixtures (groups may name later groups)."""
    targets = Targets(fixtures)
    if node is not None:
        defs = entries(out, node, "a mapping of group name -> its fixtures")
        parser = _GroupParser(out, defs, targets)
        for name in defs:
            parser.group(name)
    return targets


class _GroupParser:
    def __init__(self, out: Problems, defs: dict[str, YNode], targets: Targets) -> None:
        self.out = out
        self.defs = defs
        self.targets = targets
        self.resolving: list[str] = []  # groups being resolved: a name seen again is a loop

    def group(self, name: str) -> tuple[str, ...] | None:
        if name not in self.targets.groups:
            self.resolving.append(name)
            self.targets.groups[name] = self._parse(name, self.defs[name])
            self.resolving.pop()
        return self.targets.groups[name]

    def _parse(self, name: str, node: YNode) -> tuple[str, ...] | None:
        out = self.out
        before = len(out)
        check_key_name(out, node, name, "group")
        if name in self.targets.fixtures:
            out.at_entry(node, f"group {name!r} has the name of a fixture", "a name no fixture has")
        members: list[str] = []
        broken = False  # a member that is a broken group or fixture: reported where defined
        for entry in node.children if isinstance(node.children, list) else [node]:
            found = self._member(entry)
            broken = broken or found is None
            members.extend(m for m in found or () if m not in members)
        if len(out) == before and not members and not broken:
            out.at(node, f"group {name!r} has no fixtures", GROUP_EXPECTED)
        return tuple(members) if len(out) == before and not broken else None

    def _member(self, entry: YNode) -> tuple[str, ...] | None:
        if not isinstance(entry.value, str):
            self.out.at(entry, f"is {describe(entry.value)}", GROUP_EXPECTED)
            return None
        name = entry.value.strip()
        if name in self.defs and name not in self.targets.fixtures:
            if name in self.resolving:
                chain = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
                self.out.at(entry, f"groups contain each other: {chain}", "groups that do not loop")
                return None
            return self.group(name)
        try:
            return self.targets.resolve(name)
        except BadTarget as exc:
            self.out.at(entry, exc.message, exc.expected)
            return None
