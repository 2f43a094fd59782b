"""Palettes (presets): named values per parameter family, referenced from cues.

    palettes:
      colour:
        day: {red: 80%, green: 70%, blue: 45%, white: 60%}
        storm: {red: 0, blue: 100%, cyc_l.blue: 60%}    # target.param: this target only
      position:
        centre: {pan: 50%, tilt: 40%}
      intensity:
        full: {dimmer: 100%}

A cue references palettes by name (`back: day` or `spots: [centre, full]`); every fixture of
the target that has a parameter of the palette takes its value. The compiler only ever sees
the resolved levels, so editing a palette changes every cue that references it on the next
compile, and tracking works on those levels like on any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cuenode.show.groups import BadTarget, Targets
from cuenode.show.schema import Problems, check_key_name, entries, parse, seen_at, suggest
from cuenode.show.values import BadValue, parse_level
from cuenode.show.yaml import YNode

FAMILIES = ("colour", "position", "beam", "intensity")
PALETTE_EXPECTED = "a mapping of parameter -> level (or target.parameter -> level)"


@dataclass
class Palette:
    name: str
    family: str
    node: YNode
    values: dict[str, YNode] = field(default_factory=dict)  # parameter -> level, any fixture
    # (fixtures of the target, parameter, level): overrides for those fixtures only
    overrides: list[tuple[tuple[str, ...], str, YNode]] = field(default_factory=list)

    @property
    def params(self) -> set[str]:
        return set(self.values) | {p for _, p, _ in self.overrides}


def parse_palettes(
    out: Problems, node: YNode | None, targets: Targets
) -> dict[str, Palette | None]:
    """Palettes by name (names are unique across families); None marks a broken palette."""
    found: dict[str, Palette | None] = {}
    if node is None:
        return found
    known_params = _known_params(targets)
    seen: dict[str, YNode] = {}
    for family, fnode in entries(out, node, "a mapping of family -> palettes").items():
        if family not in FAMILIES:
            out.at_entry(fnode, f"unknown palette family {family!r}", suggest(family, FAMILIES))
            continue
        for name, pnode in entries(out, fnode, "a mapping of palette name -> values").items():
            if name in seen or name in targets.fixtures or name in targets.groups:
                out.at_entry(pnode, _clash(name, seen, pnode), "a name used once")
                continue
            seen[name] = pnode
            found[name] = _parse_palette(out, name, family, pnode, targets, known_params)
    return found


def _clash(name: str, seen: dict[str, YNode], node: YNode) -> str:
    if name in seen:
        return f"palette {name!r} is already defined at {seen_at(seen[name].where, node.where)}"
    return f"palette {name!r} has the name of a fixture or a group"


def _known_params(targets: Targets) -> set[str]:
    return {p.name for d in targets.fixtures.values() if d is not None for p in d.type.params}


def _parse_palette(
    out: Problems, name: str, family: str, node: YNode, targets: Targets, known: set[str]
) -> Palette | None:
    before = len(out)
    check_key_name(out, node, name, "palette")
    palette = Palette(name, family, node)
    values = entries(out, node, PALETTE_EXPECTED)
    if node.is_map and not values:
        out.at(node, f"palette {name!r} sets nothing", PALETTE_EXPECTED)
    for key, vnode in values.items():
        target, dot, param = key.rpartition(".")
        if param not in known:
            out.at_entry(vnode, f"no fixture has a parameter {param!r}", suggest(param, known))
            continue
        if parse(out, vnode, parse_level, 0xFFFF) is None:
            continue
        if not dot:
            palette.values[param] = vnode
            continue
        members = _override_target(out, vnode, target, targets)
        if members:
            palette.overrides.append((members, param, vnode))
    return palette if len(out) == before else None


def _override_target(
    out: Problems, vnode: YNode, target: str, targets: Targets
) -> tuple[str, ...] | None:
    try:
        return targets.resolve(target)
    except BadTarget as exc:
        out.at_entry(vnode, exc.message, exc.expected)
        return None


def palette_levels(
    out: Problems, palette: Palette, members: tuple[str, ...], targets: Targets
) -> dict[tuple[str, str], int]:
    """The levels `palette` gives the fixtures `members`: general values first, then the
    overrides for their own targets. A value too big for an 8-bit parameter is reported at the
    palette's value (once, however many cues use it)."""
    levels: dict[tuple[str, str], int] = {}
    for fixture in targets.drafts(members):
        params = {p.name: p for p in fixture.type.params}
        chosen = {p: v for p, v in palette.values.items() if p in params}
        for fixtures, param, vnode in palette.overrides:
            if fixture.name in fixtures and param in params:
                chosen[param] = vnode
        for param, vnode in chosen.items():
            try:
                levels[(fixture.name, param)] = parse_level(vnode.value, params[param].max_value)
            except BadValue as exc:
                out.at(vnode, f"{exc.message} for {fixture.name}.{param}", exc.expected)
    return levels
