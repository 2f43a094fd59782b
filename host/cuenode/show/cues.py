"""The cue list: numbers, timing, explicit levels and relay actions (tracking is the
compiler's job: a cue keeps only the levels written in it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from cuefw import showfile as sf

from cuenode.show.levels import LevelContext, parse_levels
from cuenode.show.model import Cue, Curve, Effect, Relay, RelayAction, RelayActionKind
from cuenode.show.parts import parse_cue_effects, parse_curve, parse_parts
from cuenode.show.schema import Problems, entries, items, mapping, parse, seen_at, suggest
from cuenode.show.values import (
    BadValue,
    format_cue,
    parse_cue_number,
    parse_text,
    parse_time_ms,
)
from cuenode.show.yaml import YNode, describe

CUE_KEYS = (
    "cue",
    "label",
    "time",
    "up",
    "down",
    "delay",
    "follow",
    "hang",
    "curve",
    "levels",
    "parts",
    "effects",
    "relays",
)
MAX_CUES = sf.NO_CUE - 1  # n_cues is a u16 and 0xFFFF means "no cue" (docs/compiled-show.md)
ACTION_EXPECTED = 'on, off, or "pulse <time>" (e.g. "pulse 5s")'


@dataclass
class CueDraft:
    cue: Cue
    node: YNode  # the cue's list item
    fields: dict[str, YNode]
    actions: list[tuple[RelayAction, YNode]] = field(default_factory=list)
    complete: bool = True  # False: the cue had problems, only its number is known


def parse_cues(
    out: Problems,
    node: YNode | None,
    context: LevelContext,
    relays: dict[str, Relay | None],
    effects: dict[str, Effect | None] | None = None,
) -> tuple[list[CueDraft], bool]:
    """The cues in file order, and whether every cue was read without problems."""
    if node is None:
        return [], False
    cue_items = items(out, node, "a list of cues, each starting '- cue: <number>'")
    if node.is_list and not cue_items or node.value is None:
        out.at_entry(node, "no cues", "at least one cue")
    drafts: list[CueDraft] = []
    seen: dict[int, YNode] = {}
    complete = True
    if len(cue_items) > MAX_CUES:  # the compiler would refuse it: say so here, once
        out.at_entry(
            cue_items[MAX_CUES],
            f"cue {MAX_CUES + 1:,} of {len(cue_items):,}: a show holds at most "
            f"{MAX_CUES:,} cues (the compiled show's cue index is 16-bit)",
            f"at most {MAX_CUES:,} cues",
        )
        complete = False
    for item in cue_items:
        draft = _parse_cue(out, item, context, relays, effects or {})
        number_node = draft.fields.get("cue") if draft else None
        if draft is None or number_node is None:
            complete = False
            continue
        in_order = _check_number(out, draft.cue.number, number_node, seen, drafts)
        complete = complete and draft.complete and in_order
        if draft.cue.number not in seen:
            seen[draft.cue.number] = number_node
            drafts.append(draft)
    return drafts, complete


def _check_number(
    out: Problems, number: int, node: YNode, seen: dict[int, YNode], before: list[CueDraft]
) -> bool:
    """Cue numbers are unique and increase down the list."""
    if number in seen:
        first = seen_at(seen[number].mark, node.mark)
        out.at(node, f"cue {format_cue(number)} is already used at {first}", "each cue number once")
        return False
    previous = before[-1].cue.number if before else None
    if previous is not None and number < previous:
        out.at(
            node,
            f"cue {format_cue(number)} comes after cue {format_cue(previous)}",
            "cue numbers in increasing order",
        )
        return False
    return True


def _parse_cue(
    out: Problems,
    node: YNode,
    context: LevelContext,
    relays: dict[str, Relay | None],
    effects: dict[str, Effect | None],
) -> CueDraft | None:
    before = len(out)
    known = mapping(out, node, CUE_KEYS, required=("cue",))
    if known is None:
        return None
    number = parse(out, known.get("cue"), parse_cue_number)
    label = parse(out, known.get("label"), parse_text)
    times = {
        k: parse(out, known.get(k), parse_time_ms)
        for k in ("time", "up", "down", "delay", "follow", "hang")
    }
    if "follow" in known and "hang" in known:
        second = max(known["follow"], known["hang"], key=lambda n: (n.where.line, n.where.col))
        out.at_entry(
            second,
            "a cue has either follow or hang, not both",
            "follow (after GO) or hang (after the fade completes)",
        )
    curve = parse_curve(out, known.get("curve"))
    levels = parse_levels(out, known.get("levels"), context)
    actions = _parse_actions(out, known.get("relays"), relays)
    parts = parse_parts(out, known.get("parts"), context)
    cue_effects = parse_cue_effects(out, known.get("effects"), dict(effects))
    if len(out) != before or number is None:
        return CueDraft(Cue(number), node, known, complete=False) if number is not None else None
    fade = times["time"] or 0
    cue = Cue(
        number,
        label or "",
        levels,
        fade if times["up"] is None else times["up"],
        fade if times["down"] is None else times["down"],
        times["delay"] or 0,
        times["follow"],
        times["hang"],
        cast(Curve, curve),
        tuple(action for action, _ in actions),
        parts,
        cue_effects,
    )
    return CueDraft(cue, node, known, actions)


def _parse_actions(
    out: Problems, node: YNode | None, relays: dict[str, Relay | None]
) -> list[tuple[RelayAction, YNode]]:
    actions: list[tuple[RelayAction, YNode]] = []
    if node is None:
        return actions
    for name, anode in entries(out, node, "a mapping of relay name -> on/off/pulse").items():
        if name not in relays:
            out.at_entry(
                anode,
                f"unknown relay {name!r}",
                suggest(name, relays, "a relay defined under a node"),
            )
            continue
        action = parse(out, anode, parse_action, name)
        if action is not None and relays[name] is not None:
            actions.append((action, anode))
    return actions


def parse_action(value: object, relay: str) -> RelayAction:
    """'on', 'off' or 'pulse 5s' -> a RelayAction."""
    words = value.split(None, 1) if isinstance(value, str) else []
    if words in (["on"], ["off"]):
        return RelayAction(relay, cast(RelayActionKind, words[0]))
    if len(words) == 2 and words[0] == "pulse":
        try:
            ms = parse_time_ms(words[1])
        except BadValue as exc:
            raise BadValue(f"pulse time: {exc.message}", exc.expected) from None
        if ms == 0:
            raise BadValue("a pulse of 0 s does nothing", "a pulse time above 0")
        return RelayAction(relay, "pulse", ms)
    raise BadValue(f"{describe(value)} is not a relay action", ACTION_EXPECTED)
