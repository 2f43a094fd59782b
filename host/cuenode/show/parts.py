"""A cue's `parts:` (levels with timing of their own) and its `effects:` (start/stop by name).

    - cue: 5
      time: 3s                       # the cue's own timing: its levels: use it
      levels: {foh.dimmer: 80%}
      parts:                         # like Eos parts: each with its own delay and times
        - levels: {back.dimmer: 100%}
          delay: 2s
          up: 4s
          down: 1s
        - levels: {spot1.pan: 50%}
          time: 8s
          curve: s-curve
      effects:
        breathe: start
        run: stop

A part's time/up/down/delay/curve default to 0 s / linear, not to the cue's (a part is its own
timing, as in Eos); a parameter set in a part fades with the part's times (a part wins over the
cue's levels, a later part over an earlier one). Parts track like the cue's levels.
"""

from __future__ import annotations

from typing import cast

from cuenode.show.levels import LevelContext, parse_levels
from cuenode.show.model import CuePart, Curve
from cuenode.show.schema import Problems, entries, items, mapping, parse, suggest
from cuenode.show.values import parse_time_ms
from cuenode.show.yaml import YNode, describe

PART_KEYS = ("levels", "time", "up", "down", "delay", "curve")
CURVES = ("linear", "s-curve")
MAX_PARTS = 8  # the compiled format's limit (cuefw.showfile.MAX_PARTS)
EFFECT_ACTIONS = {"start": True, "stop": False}


def parse_parts(out: Problems, node: YNode | None, context: LevelContext) -> tuple[CuePart, ...]:
    if node is None:
        return ()
    part_nodes = items(out, node, "a list of parts, each '- levels: ...' with its own timing")
    if len(part_nodes) > MAX_PARTS:
        out.at(node, f"{len(part_nodes)} parts", f"at most {MAX_PARTS} parts in a cue")
        return ()
    parts = [_parse_part(out, pnode, context) for pnode in part_nodes]
    return tuple(p for p in parts if p is not None)


def _parse_part(out: Problems, node: YNode, context: LevelContext) -> CuePart | None:
    before = len(out)
    known = mapping(out, node, PART_KEYS, required=("levels",))
    if known is None:
        return None
    times = {k: parse(out, known.get(k), parse_time_ms) for k in ("time", "up", "down", "delay")}
    curve = parse_curve(out, known.get("curve"))
    levels = parse_levels(out, known.get("levels"), context)
    if len(out) == before and not levels:
        out.at(known["levels"], "a part with no levels", "levels: for this part's parameters")
    if len(out) != before:
        return None
    fade = times["time"] or 0
    return CuePart(
        levels,
        fade if times["up"] is None else times["up"],
        fade if times["down"] is None else times["down"],
        times["delay"] or 0,
        cast(Curve, curve),
    )


def parse_curve(out: Problems, node: YNode | None) -> str:
    """A cue's or a part's `curve:` (linear when absent or wrong, with the problem noted)."""
    if node is None:
        return "linear"
    if node.value not in CURVES:
        word = node.value if isinstance(node.value, str) else ""
        out.at(
            node,
            f"{describe(node.value)} is not a fade curve",
            suggest(word, CURVES) if word else "linear or s-curve",
        )
        return "linear"
    return str(node.value)


def parse_cue_effects(
    out: Problems, node: YNode | None, effects: dict[str, object]
) -> tuple[tuple[str, bool], ...]:
    """`effects: {name: start | stop}` -> ((name, True/False), ...) in the order written."""
    if node is None:
        return ()
    found = []
    for name, enode in entries(out, node, "a mapping of effect name -> start or stop").items():
        if name not in effects:
            out.at_entry(enode, f"unknown effect {name!r}", suggest(name, effects, "an effect"))
            continue
        if enode.value not in EFFECT_ACTIONS:
            out.at(enode, f"{describe(enode.value)} is not an effect action", "start or stop")
            continue
        found.append((name, EFFECT_ACTIONS[str(enode.value)]))
    return tuple(found)
