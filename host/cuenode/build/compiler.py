"""Compile a validated `Show` into one compiled show per node (docs/compiled-show.md).

The compiler turns names into indexes and resolves tracking; `cuenode.build.showbin` packs
the bytes. Everything is ordered explicitly (fixtures by address, relays and buttons by pin,
cues in show order) so the same show always gives byte-identical output.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from cuefw import eventlog
from cuefw import showfile as sf

from cuenode.build import fxcompile, showbin
from cuenode.errors import CuenodeError
from cuenode.show.model import Button, Cue, Fixture, Node, Relay, Show

BUTTON_ACTIONS = {"go": sf.BTN_GO, "back": sf.BTN_BACK, "stop": sf.BTN_STOP, "fire": sf.BTN_FIRE}
CURVES = {"linear": sf.CURVE_LINEAR, "s-curve": sf.CURVE_SCURVE}
FAULT_MODES = {"hold": sf.FAULT_HOLD, "blackout": sf.FAULT_BLACKOUT}
RELAY_ACTIONS = {"off": sf.ACT_OFF, "on": sf.ACT_ON, "pulse": sf.ACT_PULSE}
MAX_KEYFRAME_EVERY = 16  # a full look at least every 16 cues
REPLAY_BUDGET = 2048  # at most this many changes replayed by read_look after its keyframe


class CompileError(CuenodeError):
    """The show cannot be compiled (normally caught earlier by validation)."""


@dataclass(frozen=True)
class ParamSlot:
    """One parameter of a node's universe: which fixture parameter drives which slots."""

    fixture: str
    param: str
    coarse: int  # DMX slot 1..512
    fine: int  # fine slot of a 16-bit parameter, 0 for 8-bit
    default: int


@dataclass(frozen=True)
class NodeSummary:
    node: str
    board: str
    cues: int
    params: int
    slots: int
    relays: int
    buttons: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def compile_show(show: Show, node: str | None = None) -> dict[str, bytes]:
    """Compiled bytes per node id (all nodes, or just `node`), in node-id order."""
    return {node_id: encode(ns) for node_id, ns in node_shows(show, node).items()}


def encode(ns: showbin.NodeShow) -> bytes:
    try:
        return showbin.encode(ns)
    except showbin.EncodeError as exc:
        raise CompileError(f"node '{ns.node_id}': {exc}", "change the show to fit") from None


def node_shows(show: Show, node: str | None = None) -> dict[str, showbin.NodeShow]:
    """The encoder's input per node: names resolved to indexes, tracking resolved."""
    return {node_id: node_show(show, node_id) for node_id in select_nodes(show, node)}


def select_nodes(show: Show, node: str | None) -> list[str]:
    if node is None:
        return sorted(show.nodes)
    if node not in show.nodes:
        known = ", ".join(sorted(show.nodes)) or "none"
        raise CompileError(
            f"no node '{node}' in show '{show.name}'", f"nodes in this show: {known}"
        )
    return [node]


def node_show(show: Show, node_id: str) -> showbin.NodeShow:
    node = show.nodes[node_id]
    slots = param_slots(show, node)
    relays = node_relays(show, node_id)
    cues = compile_cues(show, slots, relays)
    effect_names, effects = fxcompile.node_effects(show, _param_index(slots))
    masks = fxcompile.effect_masks(show, effect_names)
    cues = tuple(dataclasses.replace(c, effects=m) for c, m in zip(cues, masks, strict=True))
    return showbin.NodeShow(
        node_id=node_id,
        show_name=show.name,
        params=tuple((p.coarse, p.fine) for p in slots),
        base_look=tuple(p.default for p in slots),
        cues=cues,
        relays=tuple(_relay_rec(r) for r in relays),
        buttons=compile_buttons(show, node_id),
        fault_mode=FAULT_MODES[node.on_fault],
        go_protect_ms=node.go_protect_ms,
        stop_fade_ms=node.stop_fade_ms,
        keyframe_every=keyframe_interval(cues),
        effects=effects,
    )


def _param_index(slots: list[ParamSlot]) -> dict[tuple[str, str], int]:
    return {(p.fixture, p.param): i for i, p in enumerate(slots)}


def keyframe_interval(cues: tuple[showbin.CueRec, ...]) -> int:
    """The largest keyframe spacing (<= MAX_KEYFRAME_EVERY) with which `read_look` never
    replays more than REPLAY_BUDGET changes: GOTO/BACK cost stays bounded on the node however
    heavy the cues are, and light shows keep few keyframes (flash)."""
    counts = [len(c.all_changes) for c in cues]
    for every in range(MAX_KEYFRAME_EVERY, 1, -1):
        windows = range(0, len(counts), every)
        if all(sum(counts[start + 1 : start + every]) <= REPLAY_BUDGET for start in windows):
            return every
    return 1


# --- parameters ------------------------------------------------------------------------------


def node_fixtures(show: Show, node: Node) -> list[Fixture]:
    """The fixtures this node drives, by DMX address (then name, for determinism)."""
    fixtures = []
    for name in node.fixtures:
        if name not in show.fixtures:
            raise CompileError(
                f"node '{node.id}' drives unknown fixture '{name}'",
                "run `cuenode validate` and fix the fixture list",
            )
        fixtures.append(show.fixtures[name])
    return sorted(fixtures, key=lambda f: (f.address, f.name))


def param_slots(show: Show, node: Node) -> list[ParamSlot]:
    """Every parameter of every fixture on the node, in slot order: the node's param table."""
    slots = []
    for fixture in node_fixtures(show, node):
        for p in sorted(fixture.type.params, key=lambda p: (p.offset, p.name)):
            fine = fixture.address + p.fine_offset if p.fine_offset is not None else 0
            slots.append(
                ParamSlot(fixture.name, p.name, fixture.address + p.offset, fine, p.default)
            )
    _check_slots(node.id, slots)
    return slots


def _check_slots(node_id: str, slots: list[ParamSlot]) -> None:
    used: dict[int, ParamSlot] = {}
    for p in slots:
        for slot in (p.coarse, p.fine) if p.fine else (p.coarse,):
            if not 1 <= slot <= 512:
                raise CompileError(
                    f"{p.fixture}.{p.param} on node '{node_id}' lands on DMX slot {slot}",
                    "slots are 1..512; move the fixture",
                )
            if slot in used:
                other = used[slot]
                raise CompileError(
                    f"{p.fixture}.{p.param} and {other.fixture}.{other.param} "
                    f"both use DMX slot {slot} on node '{node_id}'",
                    "give the fixtures non-overlapping addresses",
                )
            used[slot] = p


# --- cues ------------------------------------------------------------------------------------


def compile_cues(
    show: Show, slots: list[ParamSlot], relays: list[Relay]
) -> tuple[showbin.CueRec, ...]:
    """Every cue of the show (so GO stays in step across nodes), each with only the
    parameters whose tracked value changes versus the previous cue."""
    index = _param_index(slots)
    fixtures_here = {p.fixture for p in slots}
    relay_index = {r.name: i for i, r in enumerate(relays)}
    look = [p.default for p in slots]
    records = []
    for cue in show.cues:
        changes = _apply_levels(cue, index, fixtures_here, look)
        own, parts = fxcompile.split_parts(cue, changes, index)
        rec = _cue_rec(cue, own, _cue_actions(cue, relay_index))
        records.append(dataclasses.replace(rec, parts=parts) if parts else rec)
    return tuple(records)


def _apply_levels(
    cue: Cue, index: dict[tuple[str, str], int], fixtures_here: set[str], look: list[int]
) -> tuple[tuple[int, int], ...]:
    """Update the tracked `look` with the cue's levels; return the (param, value) changes."""
    changed = set()
    for (fixture, param), value in cue.all_levels.items():
        if fixture not in fixtures_here:
            continue  # another node's fixture
        i = index.get((fixture, param))
        if i is None:
            raise CompileError(
                f"cue {format_cue_number(cue.number)} sets unknown parameter {fixture}.{param}",
                "run `cuenode validate`",
            )
        if look[i] != value:
            look[i] = value
            changed.add(i)
    return tuple((i, look[i]) for i in sorted(changed))


def _cue_actions(cue: Cue, relay_index: dict[str, int]) -> tuple[tuple[int, int, int], ...]:
    actions = []
    for act in cue.relays:
        if act.relay in relay_index:  # relays of other nodes are their business
            ms = act.duration_ms if act.kind == "pulse" else 0
            actions.append((relay_index[act.relay], RELAY_ACTIONS[act.kind], ms))
    # Stable sort: one relay's actions keep the order the show wrote them in.
    return tuple(sorted(actions, key=lambda a: a[0]))


def _cue_rec(
    cue: Cue, changes: tuple[tuple[int, int], ...], actions: tuple[tuple[int, int, int], ...]
) -> showbin.CueRec:
    auto_mode, auto_ms = _auto(cue)
    return showbin.CueRec(
        number=cue.number,
        label=cue.label,
        up_ms=cue.up_ms,
        down_ms=cue.down_ms,
        delay_ms=cue.delay_ms,
        auto_mode=auto_mode,
        auto_ms=auto_ms,
        curve=CURVES[cue.curve],
        changes=changes,
        actions=actions,
    )


def _auto(cue: Cue) -> tuple[int, int]:
    if cue.follow_ms is not None and cue.hang_ms is not None:
        raise CompileError(
            f"cue {format_cue_number(cue.number)} has both follow and hang", "keep one of them"
        )
    if cue.follow_ms is not None:
        return sf.AUTO_FOLLOW, cue.follow_ms
    if cue.hang_ms is not None:
        return sf.AUTO_HANG, cue.hang_ms
    return sf.AUTO_NONE, 0


def format_cue_number(thousandths: int) -> str:
    """12250 -> '12.25', 1000 -> '1' (the node's own formatting, so host and node agree)."""
    return eventlog.cue_text(thousandths)


# --- relays and buttons ----------------------------------------------------------------------


def node_relays(show: Show, node_id: str) -> list[Relay]:
    """The node's relay table, by pin label then name."""
    return sorted(
        (r for r in show.relays.values() if r.node == node_id), key=lambda r: (r.pin, r.name)
    )


def _relay_rec(r: Relay) -> showbin.RelayRec:
    flags = (sf.RELAY_REQUIRES_ARM if r.requires_arm else 0) | (sf.RELAY_HAZARD if r.hazard else 0)
    return showbin.RelayRec(
        name=r.name,
        pin=r.pin,
        max_on_ms=r.max_on_ms or 0,
        min_off_ms=r.min_off_ms,
        duty_window_ms=r.duty_window_ms if r.duty_pct is not None else 0,
        duty_pct=r.duty_pct if r.duty_pct is not None else 100,
        flags=flags,
    )


def compile_buttons(show: Show, node_id: str) -> tuple[showbin.ButtonRec, ...]:
    cue_index = {c.number: i for i, c in enumerate(show.cues)}
    buttons = sorted((b for b in show.buttons if b.node == node_id), key=lambda b: b.pin)
    return tuple(_button_rec(b, cue_index) for b in buttons)


def _button_rec(b: Button, cue_index: dict[int, int]) -> showbin.ButtonRec:
    target = sf.NO_CUE
    if b.action == "fire":
        if b.cue not in cue_index:
            shown = "none" if b.cue is None else format_cue_number(b.cue)
            raise CompileError(
                f"button {b.node}.{b.pin} fires cue {shown}, which the show does not have",
                "point it at an existing cue number",
            )
        target = cue_index[b.cue]
    return showbin.ButtonRec(
        pin=b.pin,
        action=BUTTON_ACTIONS[b.action],
        cue_index=target,
        debounce_ms=b.debounce_ms,
        stuck_s=b.stuck_s,
    )


# --- summary ---------------------------------------------------------------------------------


def summarize(show: Show, node_id: str, blob: bytes) -> NodeSummary:
    node = show.nodes[node_id]
    slots = param_slots(show, node)
    return NodeSummary(
        node=node_id,
        board=node.board,
        cues=len(show.cues),
        params=len(slots),
        slots=sum(2 if p.fine else 1 for p in slots),
        relays=len(node_relays(show, node_id)),
        buttons=sum(1 for b in show.buttons if b.node == node_id),
        bytes=len(blob),
        sha256=hashlib.sha256(blob[: -sf.HASH_LEN]).hexdigest(),
    )
