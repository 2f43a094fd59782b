"""Compile cue parts and effects (docs/compiled-show.md, format 2) for one node.

Parts: a cue's changes are split by who set them: the cue's own levels keep the cue's timing,
a parameter a part sets goes into that part's run (`showbin.PartRec`). Effects: the node's
table holds the effects with at least one member on the node, by name; each cue carries the
full set running after it (tracking: an effect runs from the cue that starts it to the cue that
stops it), as a bit mask over that table.
"""

from __future__ import annotations

from cuefw import showfile as sf

from cuenode.build import showbin
from cuenode.show.model import Cue, Effect, Show

SHAPES = {"sine": sf.FX_SINE, "ramp": sf.FX_RAMP, "square": sf.FX_SQUARE, "chase": sf.FX_SQUARE}
CURVES = {"linear": sf.CURVE_LINEAR, "s-curve": sf.CURVE_SCURVE}


def split_parts(
    cue: Cue, changes: tuple[tuple[int, int], ...], index: dict[tuple[str, str], int]
) -> tuple[tuple[tuple[int, int], ...], tuple[showbin.PartRec, ...]]:
    """(the cue's own changes, its parts with theirs): each changed parameter goes to the last
    part that sets it, else stays with the cue. Parts with no change on this node are left out."""
    owner: dict[int, int] = {}
    for k, part in enumerate(cue.parts):
        for key in part.levels:
            if key in index:
                owner[index[key]] = k
    own = tuple(ch for ch in changes if ch[0] not in owner)
    parts = []
    for k, part in enumerate(cue.parts):
        mine = tuple(ch for ch in changes if owner.get(ch[0]) == k)
        if mine:
            parts.append(
                showbin.PartRec(mine, part.up_ms, part.down_ms, part.delay_ms, CURVES[part.curve])
            )
    return own, tuple(parts)


def node_effects(
    show: Show, index: dict[tuple[str, str], int]
) -> tuple[list[str], tuple[showbin.EffectRec, ...]]:
    """The effects with members on this node (names sorted, the table order) and their records."""
    names, records = [], []
    for name in sorted(show.effects):
        rec = _effect_rec(show.effects[name], index)
        if rec is not None:
            names.append(name)
            records.append(rec)
    return names, tuple(records)


def _effect_rec(e: Effect, index: dict[tuple[str, str], int]) -> showbin.EffectRec | None:
    members = tuple((index[(f, e.param)], phase) for f, phase in e.members if (f, e.param) in index)
    if not members:
        return None
    return showbin.EffectRec(
        SHAPES[e.shape], e.period_ms, e.size, e.offset, min(e.width, 65536), members
    )


def effect_masks(show: Show, names: list[str]) -> list[int]:
    """Per cue, the mask of this node's effects running after it (starts and stops track)."""
    bit = {name: 1 << k for k, name in enumerate(names)}
    running = 0
    masks = []
    for cue in show.cues:
        for name, start in cue.effects:
            b = bit.get(name, 0)
            running = running | b if start else running & ~b
        masks.append(running)
    return masks
