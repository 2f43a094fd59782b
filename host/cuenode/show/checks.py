"""Checks across sections: DMX patch per node, fire buttons, auto-continue chains and relay
safety limits against what the cues ask for."""

from __future__ import annotations

from dataclasses import dataclass

from cuenode.show.cues import CueDraft
from cuenode.show.model import Cue, Relay, RelayAction
from cuenode.show.nodes import NodeDrafts
from cuenode.show.schema import Problems
from cuenode.show.types import FixtureDraft
from cuenode.show.values import format_cue, format_ms
from cuenode.show.yaml import YNode


def check_patch(out: Problems, fixtures: dict[str, FixtureDraft | None], nodes: NodeDrafts) -> None:
    """Every fixture is on a node, and fixtures on one node do not share DMX channels."""
    by_node: dict[str, list[FixtureDraft]] = {}
    for name, fixture in fixtures.items():
        if fixture is None:
            continue
        if name not in nodes.patch:
            if nodes.patch_incomplete:  # it may be in the list that could not be read
                continue
            out.at_entry(
                fixture.node,
                f"fixture {name!r} is not patched on any node",
                "its name in one node's fixtures: list",
            )
            continue
        by_node.setdefault(nodes.patch[name][0], []).append(fixture)
    for node_id, patched in by_node.items():
        _check_overlaps(out, node_id, patched)


def _check_overlaps(out: Problems, node_id: str, patched: list[FixtureDraft]) -> None:
    """Report each fixture whose channels overlap one written earlier in the file."""
    in_file_order = sorted(patched, key=lambda f: (f.node.where.line, f.node.where.col))
    for k, fixture in enumerate(in_file_order):
        first, last = _span(fixture)
        for earlier in in_file_order[:k]:
            e_first, e_last = _span(earlier)
            if first <= e_last and e_first <= last:
                out.at(
                    fixture.address_node,
                    f"{_channels(first, last)} overlap fixture {earlier.name!r} "
                    f"({_channels(e_first, e_last)}) on node {node_id!r}",
                    "fixtures on one node on separate channels",
                )
                break


def _channels(first: int, last: int) -> str:
    return f"channel {first}" if first == last else f"channels {first}-{last}"


def _span(fixture: FixtureDraft) -> tuple[int, int]:
    return fixture.address, fixture.address + fixture.type.footprint - 1


def check_fire_buttons(out: Problems, nodes: NodeDrafts, cues: list[CueDraft]) -> None:
    numbers = {d.cue.number for d in cues}
    for button, bnode in nodes.buttons:
        if button.action == "fire" and button.cue not in numbers:
            where = bnode.children.get("cue", bnode) if isinstance(bnode.children, dict) else bnode
            out.at(
                where,
                f"fires cue {format_cue(button.cue or 0)}, which is not in the cue list",
                "the number of an existing cue",
            )


def check_chain(out: Problems, cues: list[CueDraft], written_last: YNode | None = None) -> None:
    """Auto-continue past the last cue is an error.

    Playback never wraps from the last cue to the first, so the only way a follow/hang chain
    can run without ever waiting for GO is to auto-continue off the end of the list: that is
    a chain that loops (on a console that wraps) or silently dies (on one that does not).
    Only checked when the last cue written (`written_last`) is the last cue read: when it is
    a duplicate or out of order, that is the one problem to report."""
    if not cues or (written_last is not None and cues[-1].node is not written_last):
        return
    last = cues[-1]
    for key in ("follow", "hang"):
        if key in last.fields:
            out.at_entry(
                last.fields[key],
                f"the last cue (cue {format_cue(last.cue.number)}) "
                f"auto-continues ({key}) but there is no next cue and playback never "
                "wraps to the first",
                "no follow/hang on the last cue: a chain must end at a cue that waits for GO",
            )


# --- relay safety --------------------------------------------------------------------------


@dataclass
class _Event:
    cue: Cue
    segment: int  # cues joined by follow/hang share a segment: their times are known
    at_ms: int  # GO time of the cue, from the start of its segment
    action: RelayAction
    node: YNode


def check_relays(
    out: Problems,
    relays: dict[str, Relay | None],
    cues: list[CueDraft],
    patch: NodePatch,
    complete: bool,
) -> None:
    """Each relay action against its relay's limits.

    A pulse longer than max_on (or than the duty budget) is always an error. Across cues,
    times are only known inside an auto-continue chain (GO times are the operator's), so an
    on..off span or an off..on gap is checked when both ends are in one chain; an `on` of a
    relay with max_on that no later cue ever ends is an error (the node would cut it anyway,
    so the show would not say what happens). `complete` is False when some cue had problems:
    then only the per-action checks run, to avoid reports caused by a missing cue."""
    timelines: dict[str, list[_Event]] = {}
    for name, relay in relays.items():
        if relay is None:
            continue
        if relay.node not in timelines:  # each node runs its own cue timing
            timelines[relay.node] = _relay_events(cues, patch, relay.node)
        mine = [e for e in timelines[relay.node] if e.action.relay == name]
        for event in mine:
            _check_pulse(out, relay, event)
        if complete:
            _check_timeline(out, relay, mine)


@dataclass
class NodePatch:
    """Which node drives each fixture, and every parameter's default (the tracked start)."""

    node_of: dict[str, str]
    defaults: dict[tuple[str, str], int]


def _relay_events(cues: list[CueDraft], patch: NodePatch, node: str) -> list[_Event]:
    """Relay actions with their GO time inside their auto-continue chain, as `node` runs it."""
    events = []
    look = dict(patch.defaults)
    segment, at_ms = 0, 0
    for draft in cues:
        for action, where in draft.actions:
            events.append(_Event(draft.cue, segment, at_ms, action, where))
        rising, falling = _directions(draft.cue, look, patch.node_of, node)
        step = auto_continue_ms(draft.cue, rising, falling)
        if step is None:
            segment, at_ms = segment + 1, 0
        else:
            at_ms += step
    return events


def _directions(
    cue: Cue, look: dict[tuple[str, str], int], node_of: dict[str, str], node: str
) -> tuple[bool, bool]:
    """Does this cue raise / lower any tracked level on `node`? (Updates the tracked look.)"""
    rising = falling = False
    for key, value in cue.all_levels.items():
        if node_of.get(key[0]) != node:
            continue
        old = look.get(key, 0)
        rising, falling = rising or value > old, falling or value < old
        look[key] = value
    return rising, falling


def auto_continue_ms(cue: Cue, rising: bool = True, falling: bool = True) -> int | None:
    """Time from this cue's GO to the automatic GO of the next one, or None (waits for GO).

    follow: that long after GO; hang: that long after the fade completes, which is the
    cue's delay plus the longer of its up time (if it raises a level on the node) and its
    down time (if it lowers one), as the node's engine times it."""
    if cue.follow_ms is not None:
        return cue.follow_ms
    if cue.hang_ms is not None:
        fade = max(cue.up_ms if rising else 0, cue.down_ms if falling else 0)
        # cue parts: the cue completes with its longest part (counted whatever its direction)
        parts = [p.delay_ms + max(p.up_ms, p.down_ms) for p in cue.parts]
        return max([cue.delay_ms + fade, *parts]) + cue.hang_ms
    return None


def _check_pulse(out: Problems, relay: Relay, event: _Event) -> None:
    action = event.action
    if action.kind != "pulse":
        return
    if relay.max_on_ms is not None and action.duration_ms > relay.max_on_ms:
        out.at(
            event.node,
            f"pulse of {format_ms(action.duration_ms)} breaks relay "
            f"{relay.name!r} max_on of {format_ms(relay.max_on_ms)}",
            f"a pulse of at most {format_ms(relay.max_on_ms)}",
        )
    elif relay.duty_pct is not None:
        budget = relay.duty_window_ms * relay.duty_pct // 100
        if action.duration_ms > budget:
            out.at(
                event.node,
                f"pulse of {format_ms(action.duration_ms)} breaks relay "
                f"{relay.name!r} duty limit ({relay.duty_pct}% of "
                f"{format_ms(relay.duty_window_ms)} = {format_ms(budget)})",
                f"a pulse of at most {format_ms(budget)}",
            )


@dataclass
class _OnState:
    since: _Event  # the action that switched the relay on
    until: int | None  # a pulse's end (ms in since.segment); None: on until switched off
    latched_by: _Event  # the action that decided how it ends (the last on or pulse)


def _check_timeline(out: Problems, relay: Relay, events: list[_Event]) -> None:
    state: _OnState | None = None
    off_at: tuple[int, int] | None = None  # (segment, ms) when it last went off
    for event in events:
        if state is not None and _pulse_over(state, event):
            off_at = (state.since.segment, state.until or 0)
            state = None
        kind, ends = event.action.kind, event.at_ms + event.action.duration_ms
        if state is None and kind != "off":
            _check_min_off(out, relay, event, off_at)
            state = _OnState(event, ends if kind == "pulse" else None, event)
        elif state is not None and kind == "on":
            if state.until is not None:  # `on` during a pulse: now on until an off
                state.until, state.latched_by = None, event
        elif state is not None and kind == "pulse":  # a pulse ends with off, even after `on`
            _check_on_span(out, relay, state.since, event, ends)
            state.until, state.latched_by = ends, event
        elif state is not None:  # off
            _check_on_span(out, relay, state.since, event, event.at_ms)
            off_at, state = (event.segment, event.at_ms), None
    if state is not None and state.until is None and relay.max_on_ms is not None:
        on = state.latched_by
        out.at(
            on.node,
            f"relay {relay.name!r} is switched on in cue "
            f"{format_cue(on.cue.number)} and never off, but its max_on is "
            f"{format_ms(relay.max_on_ms)}",
            f'"pulse <time>" (at most {format_ms(relay.max_on_ms)}) or an off in a later cue',
        )


def _pulse_over(state: _OnState, event: _Event) -> bool:
    """Has the running pulse ended by this event? (Across a manual GO it surely has: a pulse
    is short and the operator's wait is not known, so it counts as over.)"""
    if state.until is None:
        return False
    return state.since.segment != event.segment or state.until <= event.at_ms


def _check_min_off(
    out: Problems, relay: Relay, event: _Event, off_at: tuple[int, int] | None
) -> None:
    if not relay.min_off_ms or off_at is None or off_at[0] != event.segment:
        return
    gap = event.at_ms - off_at[1]
    if gap < relay.min_off_ms:
        out.at(
            event.node,
            f"relay {relay.name!r} would switch on {format_ms(gap)} "
            f"after it went off (cue {format_cue(event.cue.number)} follows automatically), "
            f"but its min_off is {format_ms(relay.min_off_ms)}",
            f"at least {format_ms(relay.min_off_ms)} off between uses",
        )


def _check_on_span(out: Problems, relay: Relay, on: _Event, end: _Event, end_ms: int) -> None:
    if relay.max_on_ms is None or on.segment != end.segment:
        return
    span = end_ms - on.at_ms
    if span > relay.max_on_ms:
        out.at(
            on.node,
            f"relay {relay.name!r} stays on for {format_ms(span)} (cue "
            f"{format_cue(on.cue.number)} to cue {format_cue(end.cue.number)}, which "
            f"follows automatically), but its max_on is {format_ms(relay.max_on_ms)}",
            f"off within {format_ms(relay.max_on_ms)}, or a shorter follow/hang",
        )
