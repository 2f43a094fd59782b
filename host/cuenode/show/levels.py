"""A cue's `levels:` mapping, with groups, ranges and palettes resolved to fixture levels.

    levels:
      foh.dimmer: 60%            # target.parameter: level (target: fixture, group or range)
      pars[1-4].red: 255
      back: day                  # target: palette (or a list of palettes)
      spot1.dimmer: 0            # keys apply in the order written: a later key wins

A group key sets each member that has the parameter (a group of mixed types is normal); a key
whose target has no member with the parameter is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from cuenode.show.groups import BadTarget, Targets
from cuenode.show.model import FixtureType, ParamDef
from cuenode.show.palettes import Palette, palette_levels
from cuenode.show.schema import Problems, entries, parse, suggest
from cuenode.show.values import parse_level
from cuenode.show.yaml import YNode, describe

Levels = dict[tuple[str, str], int]


@dataclass
class LevelContext:
    """What a cue's level keys may name: fixtures, groups, ranges and palettes."""

    targets: Targets
    palettes: dict[str, Palette | None] = field(default_factory=dict)


def parse_levels(out: Problems, node: YNode | None, context: LevelContext) -> Levels:
    levels: Levels = {}
    if node is None:
        return levels
    for key, vnode in entries(out, node, "a mapping of fixture.parameter -> level").items():
        target, dot, pname = _split_level_key(key)
        if not target or (dot and not pname):
            _not_a_level_key(out, vnode, key, context)
        elif dot:
            levels.update(_parameter_levels(out, vnode, target, pname, context.targets))
        elif isinstance(vnode.value, str) or vnode.is_list:
            levels.update(_palette_refs(out, vnode, target, context))
        else:
            _not_a_level_key(out, vnode, key, context)
    return levels


_PARAMS: dict[int, tuple[FixtureType, dict[str, ParamDef]]] = {}


def _params_by_name(ftype: FixtureType) -> dict[str, ParamDef]:
    """A type's parameters by name, made once per type (not once per level written)."""
    known = _PARAMS.get(id(ftype))
    if known is None or known[0] is not ftype:  # the type is kept, so its id stays its own
        if len(_PARAMS) > 10_000:
            _PARAMS.clear()
        known = _PARAMS[id(ftype)] = (ftype, {p.name: p for p in ftype.params})
    return known[1]


@lru_cache(maxsize=65536)
def _split_level_key(key: str) -> tuple[str, str, str]:
    """'spot1.dimmer' -> ('spot1', '.', 'dimmer'), one shared copy per distinct key: a big
    show repeats the same few hundred keys a million times, and each copy cost ~150 bytes."""
    return key.partition(".")


def _not_a_level_key(out: Problems, vnode: YNode, key: str, context: LevelContext) -> None:
    expected = "fixture.parameter, e.g. 'spot1.dimmer'"
    if context.palettes:
        expected += ", or target: palette"
    out.at_entry(vnode, f"{key!r} does not name a fixture parameter", expected)


def _members(out: Problems, vnode: YNode, target: str, targets: Targets) -> tuple[str, ...]:
    try:
        return targets.resolve(target) or ()
    except BadTarget as exc:
        out.at_entry(vnode, exc.message, exc.expected)
        return ()


def _parameter_levels(
    out: Problems, vnode: YNode, target: str, pname: str, targets: Targets
) -> Levels:
    members = targets.drafts(_members(out, vnode, target, targets))
    having = [d for d in members if pname in _params_by_name(d.type)]
    if members and not having:
        params = {p.name for d in members for p in d.type.params}
        if len(members) == 1 and members[0].name == target:
            problem = f"fixture {target!r} ({members[0].type.name}) has no parameter {pname!r}"
        else:
            problem = f"no fixture of {target!r} has a parameter {pname!r}"
        out.at_entry(vnode, problem, suggest(pname, params, "a parameter"))
        return {}
    levels: Levels = {}
    for draft in having:
        param = _params_by_name(draft.type)[pname]
        value = parse(out, vnode, parse_level, param.max_value)
        if value is None:
            break  # one problem for the key, not one per member
        levels[(draft.name, pname)] = value
    return levels


def _palette_refs(out: Problems, vnode: YNode, target: str, context: LevelContext) -> Levels:
    members = _members(out, vnode, target, context.targets)
    refs = vnode.children if isinstance(vnode.children, list) else [vnode]
    levels: Levels = {}
    for ref in refs:
        palette = _palette(out, ref, context)
        if palette is None or not members:
            continue
        drafts = context.targets.drafts(members)
        if not any(p.name in palette.params for d in drafts for p in d.type.params):
            out.at(
                ref,
                f"palette {palette.name!r} sets {', '.join(sorted(palette.params))}; "
                f"no fixture of {target!r} has any of them",
                "a palette for parameters these fixtures have",
            )
        levels.update(palette_levels(out, palette, members, context.targets))
    return levels


def _palette(out: Problems, ref: YNode, context: LevelContext) -> Palette | None:
    name = ref.value
    if not isinstance(name, str) or name not in context.palettes:
        shown = repr(name) if isinstance(name, str) else describe(name)
        hint = suggest(name, context.palettes, "a palette") if isinstance(name, str) else ""
        out.at(ref, f"{shown} is not a palette", hint or "a palette name from palettes:")
        return None
    return context.palettes[name]  # None: broken, reported where it is defined
