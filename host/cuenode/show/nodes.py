"""Nodes: board, patched fixtures, relays with their safety limits, and buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from cuenode.boards import Board, board_names, load_board
from cuenode.show.groups import Targets
from cuenode.show.model import Button, ButtonAction, FaultMode, Node, Relay
from cuenode.show.schema import (
    Problems,
    check_key_name,
    entries,
    items,
    mapping,
    parse,
    seen_at,
    suggest,
)
from cuenode.show.values import (
    BadValue,
    check_name,
    parse_bool,
    parse_cue_number,
    parse_percent,
    parse_time_ms,
)
from cuenode.show.yaml import YNode, describe, excerpt

NODE_KEYS = ("board", "fixtures", "relays", "buttons", "on_fault", "go_protect", "stop_fade")
RELAY_KEYS = ("pin", "max_on", "min_off", "duty", "duty_window", "requires_arm", "hazard")
BUTTON_KEYS = ("action", "cue", "debounce", "stuck")
ACTIONS = ("go", "back", "stop", "fire")
FAULT_MODES = ("hold", "blackout")
BUTTON_EXPECTED = 'go, back, stop, "fire <cue>", or a mapping with action: and cue:'


@dataclass
class NodeDrafts:
    """What the nodes section says, with the nodes that marked each fact (for later checks)."""

    nodes: dict[str, Node | None] = field(default_factory=dict)
    patch: dict[str, tuple[str, YNode]] = field(default_factory=dict)  # fixture -> node, entry
    relays: dict[str, Relay | None] = field(default_factory=dict)
    relay_nodes: dict[str, YNode] = field(default_factory=dict)
    buttons: list[tuple[Button, YNode]] = field(default_factory=list)
    groups: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # show's groups
    # a node or its fixtures list could not be read: "fixture not patched" would be a guess
    patch_incomplete: bool = False


def parse_nodes(
    out: Problems, node: YNode | None, fixture_names: set[str], targets: Targets | None = None
) -> NodeDrafts:
    drafts = NodeDrafts(groups=targets.groups if targets else {})
    if node is None:
        return drafts
    found = entries(out, node, "a mapping of node id -> node")
    if (node.is_map or node.value is None) and not found:
        out.at_entry(node, "no nodes", "at least one node with a board")
    for node_id, nnode in found.items():
        drafts.nodes[node_id] = _parse_node(out, node_id, nnode, fixture_names, drafts)
    return drafts


def _parse_node(
    out: Problems, node_id: str, node: YNode, fixture_names: set[str], drafts: NodeDrafts
) -> Node | None:
    before = len(out)
    check_key_name(out, node, node_id, "node")
    known = mapping(out, node, NODE_KEYS, required=("board",))
    if known is None:
        drafts.patch_incomplete = True
        return None
    board = _board(out, known.get("board"))
    patched = _patch(out, node_id, known.get("fixtures"), fixture_names, drafts)
    if "relays" in known:
        _parse_relays(out, node_id, known["relays"], board, drafts)
    if "buttons" in known:
        _parse_buttons(out, node_id, known["buttons"], board, drafts)
    on_fault = _choice(out, known.get("on_fault"), FAULT_MODES) or "hold"
    go_protect = parse(out, known.get("go_protect"), parse_time_ms, 10_000)
    stop_fade = parse(out, known.get("stop_fade"), parse_time_ms, 60_000)
    if len(out) != before or board is None:
        return None
    return Node(
        node_id,
        board.name,
        tuple(patched),
        cast(FaultMode, on_fault),
        500 if go_protect is None else go_protect,
        2000 if stop_fade is None else stop_fade,
    )


def _board(out: Problems, node: YNode | None) -> Board | None:
    if node is None:
        return None
    if not isinstance(node.value, str):
        out.at(node, f"is {describe(node.value)}", "a board name: " + ", ".join(board_names()))
        return None
    try:
        check_name(node.value, "board")
        board = load_board(node.value)
    except BadValue:
        board = None
    if board is None:
        out.at(
            node,
            f"unknown board {excerpt(node.value)}",
            suggest(node.value, board_names(), "a board in boards/"),
        )
    return board


def _patch(
    out: Problems, node_id: str, node: YNode | None, fixture_names: set[str], drafts: NodeDrafts
) -> list[str]:
    """The node's fixtures list: each fixture is driven by exactly one node."""
    if node is None:
        return []
    patched = []
    if node.value is not None and not node.is_list:
        drafts.patch_incomplete = True
    for entry in items(out, node, "a list of fixture names"):
        name = entry.value
        if not isinstance(name, str | int) or isinstance(name, bool):
            out.at(entry, f"is {describe(name)}", "a fixture name")
            continue
        name = str(name)
        if name in drafts.groups and name not in fixture_names:
            patched.extend(_patch_group(out, node_id, entry, drafts.groups[name] or (), drafts))
        elif name not in fixture_names:
            out.at(
                entry,
                f"unknown fixture {name!r}",
                suggest(name, fixture_names, "a fixture from the fixtures section"),
            )
        elif name in drafts.patch:
            other, first = drafts.patch[name]
            where = "this node" if other == node_id else f"node {other!r}"
            at = seen_at(first.mark, entry.mark)
            out.at(
                entry,
                f"fixture {name!r} is already patched on {where} at {at}",
                "each fixture on exactly one node, once",
            )
        else:
            drafts.patch[name] = (node_id, entry)
            patched.append(name)
    return patched


def _patch_group(
    out: Problems, node_id: str, entry: YNode, members: tuple[str, ...], drafts: NodeDrafts
) -> list[str]:
    """A group in a node's fixtures list patches each of its fixtures there."""
    patched = []
    for name in members:
        if name in drafts.patch:
            other, first = drafts.patch[name]
            where = "this node" if other == node_id else f"node {other!r}"
            out.at(
                entry,
                f"fixture {name!r} of group {entry.value!r} is already patched on {where} "
                f"at {seen_at(first.mark, entry.mark)}",
                "each fixture on exactly one node, once",
            )
            continue
        drafts.patch[name] = (node_id, entry)
        patched.append(name)
    return patched


def _choice(out: Problems, node: YNode | None, choices: tuple[str, ...]) -> str | None:
    if node is None:
        return None
    if node.value not in choices:
        word = node.value if isinstance(node.value, str) else ""
        hint = suggest(word, choices) if word else f"expected one of: {', '.join(choices)}"
        out.at(node, f"{describe(node.value)} is not allowed", hint)
        return None
    return str(node.value)


# --- relays --------------------------------------------------------------------------------


def _parse_relays(
    out: Problems, node_id: str, node: YNode, board: Board | None, drafts: NodeDrafts
) -> None:
    pins: dict[str, str] = {}
    for name, rnode in entries(out, node, "a mapping of relay name -> relay").items():
        if name in drafts.relay_nodes:
            first = drafts.relay_nodes[name].where
            out.at_entry(
                rnode,
                f"relay {name!r} is already defined at {seen_at(first, rnode.where)}",
                "relay names unique across the show (cues switch relays by name)",
            )
            continue
        drafts.relay_nodes[name] = rnode
        drafts.relays[name] = _parse_relay(out, node_id, name, rnode, board, pins)


def _parse_relay(
    out: Problems, node_id: str, name: str, node: YNode, board: Board | None, pins: dict[str, str]
) -> Relay | None:
    before = len(out)
    check_key_name(out, node, name, "relay")
    known = mapping(out, node, RELAY_KEYS, required=("pin",))
    if known is None:
        return None
    pin = _pin(out, known.get("pin"), board, "relay", pins, name)
    max_on = parse(out, known.get("max_on"), parse_time_ms)
    if max_on == 0:
        out.at(
            known["max_on"],
            "max_on of 0 would never let the relay switch on",
            "a time above 0, or leave max_on out for no limit",
        )
    min_off = parse(out, known.get("min_off"), parse_time_ms)
    duty = parse(out, known.get("duty"), parse_percent, "a duty cycle from 1% to 100%")
    window = parse(out, known.get("duty_window"), parse_time_ms)
    if "duty_window" in known and "duty" not in known:
        out.at_entry(
            known["duty_window"],
            "duty_window has no effect without duty",
            "duty: N% beside it, or no duty_window",
        )
    elif window is not None and window < 1000:
        out.at(known["duty_window"], "duty_window is shorter than 1s", "a window of 1s or more")
    arm = parse(out, known.get("requires_arm"), parse_bool)
    hazard = parse(out, known.get("hazard"), parse_bool)
    if len(out) != before or pin is None:
        return None
    return Relay(
        name,
        node_id,
        pin,
        max_on,
        min_off or 0,
        duty,
        60_000 if window is None else window,
        bool(arm),
        bool(hazard),
    )


def _pin(
    out: Problems,
    node: YNode | None,
    board: Board | None,
    kind: str,
    used: dict[str, str],
    owner: str,
) -> str | None:
    """A board pin label for a relay or button, checked against the board's data file."""
    if node is None:
        return None
    label = node.value
    if not isinstance(label, str):
        out.at(node, f"is {describe(label)}", f"a {kind} pin label like 'R1'")
        return None
    if board is not None:
        pins = board.relays if kind == "relay" else board.buttons
        if label not in pins:
            out.at(
                node,
                f"board {board.name!r} has no {kind} pin {label!r}",
                f"one of: {', '.join(sorted(pins))}",
            )
            return None
    if label in used:
        out.at(
            node, f"pin {label!r} is already used by {kind} {used[label]!r}", f"one {kind} per pin"
        )
        return None
    used[label] = owner
    return label


# --- buttons -------------------------------------------------------------------------------


def _parse_buttons(
    out: Problems, node_id: str, node: YNode, board: Board | None, drafts: NodeDrafts
) -> None:
    used: dict[str, str] = {}
    for pin_label, bnode in entries(out, node, "a mapping of button pin -> action").items():
        pin_node = YNode(pin_label, bnode.where, bnode.path, bnode.key_mark)
        pin = _pin(out, pin_node, board, "button", used, pin_label)
        button = _parse_button(out, node_id, pin_label, bnode)
        if button is not None and pin is not None:
            drafts.buttons.append((button, bnode))


def _parse_button(out: Problems, node_id: str, pin: str, node: YNode) -> Button | None:
    if isinstance(node.value, str):
        return _button_from_text(out, node_id, pin, node)
    before = len(out)
    known = mapping(out, node, BUTTON_KEYS, required=("action",), expected=BUTTON_EXPECTED)
    if known is None:
        return None
    action = _choice(out, known.get("action"), ACTIONS)
    cue = parse(out, known.get("cue"), parse_cue_number)
    if action == "fire" and "cue" not in known:
        out.at_entry(node, "a fire button needs a cue", "cue: <number> beside action: fire")
    elif action in ("go", "back", "stop") and "cue" in known:
        out.at_entry(known["cue"], f"a {action} button takes no cue", "cue: only with fire")
    debounce = parse(out, known.get("debounce"), parse_time_ms, 1000)
    stuck = parse(out, known.get("stuck"), parse_time_ms, 600_000)
    if stuck is not None and (stuck % 1000 or stuck == 0):
        out.at(
            known["stuck"],
            "stuck time is not a whole number of seconds",
            "whole seconds from 1s to 10m",
        )
    if len(out) != before or action is None:
        return None
    return Button(
        node_id,
        pin,
        cast(ButtonAction, action),
        cue,
        10 if debounce is None else debounce,
        5 if stuck is None else stuck // 1000,
    )


def _button_from_text(out: Problems, node_id: str, pin: str, node: YNode) -> Button | None:
    words = str(node.value).split()
    if len(words) == 1 and words[0] in ("go", "back", "stop"):
        return Button(node_id, pin, cast(ButtonAction, words[0]))
    if len(words) == 2 and words[0] == "fire":
        cue_node = YNode(words[1], node.mark, node.path)
        cue = parse(out, cue_node, parse_cue_number)
        return None if cue is None else Button(node_id, pin, "fire", cue)
    head = words[0] if words else ""
    close = suggest(head, ACTIONS) if head not in ACTIONS else ""
    out.at(
        node,
        f"{describe(node.value)} is not a button action",
        close if close.startswith("did you mean") else BUTTON_EXPECTED,
    )
    return None
