"""Property tests: random valid shows -> compiler -> bytes -> the firmware's own ShowReader.

Every check compares what the reader returns with an independent reference computed straight
from the `Show` model (tracking replayed per cue, DMX frames built from fixture addresses), so
the compiler's param table, tracking, keyframes, relay/button tables and strings are all
checked end to end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
from array import array

import pytest
from cuefw import showfile as sf
from cuenode.build import compiler, showbin
from cuenode.show.model import (
    Button,
    Cue,
    Fixture,
    FixtureType,
    Node,
    ParamDef,
    Relay,
    RelayAction,
    Show,
)
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
NODE_IDS = ["n1", "stage-left", "foh", "Ω-rig"]
PARAM_NAMES = ["dim", "red", "green", "blue", "white", "pan", "tilt", "zoom"]


@st.composite
def fixture_types(draw: st.DrawFn, name: str) -> FixtureType:
    names = draw(st.lists(st.sampled_from(PARAM_NAMES), min_size=1, max_size=5, unique=True))
    params, offset = [], 0
    for pname in names:
        offset += draw(st.integers(0, 1))  # sometimes an unused channel in the layout
        if draw(st.booleans()):
            default = draw(st.integers(0, 0xFFFF))
            params.append(ParamDef(pname, offset, offset + 1, default))
            offset += 2
        else:
            params.append(ParamDef(pname, offset, None, draw(st.integers(0, 0xFF))))
            offset += 1
    return FixtureType(name, tuple(params), offset)


@st.composite
def shows(draw: st.DrawFn) -> Show:
    types = [draw(fixture_types(f"type{i}")) for i in range(draw(st.integers(1, 3)))]
    node_ids = draw(st.lists(st.sampled_from(NODE_IDS), min_size=1, max_size=3, unique=True))
    fixtures: dict[str, Fixture] = {}
    relays: dict[str, Relay] = {}
    node_fixtures: dict[str, list[str]] = {}
    for node_id in node_ids:
        node_fixtures[node_id] = draw_fixtures(draw, node_id, types, fixtures)
        draw_relays(draw, node_id, relays)
    cues = draw_cues(draw, fixtures, relays)
    buttons = tuple(b for node_id in node_ids for b in draw_buttons(draw, node_id, cues))
    nodes = {
        n: Node(
            n,
            "pico",
            tuple(node_fixtures[n]),
            draw(st.sampled_from(["hold", "blackout"])),
            draw(st.integers(0, 0xFFFF)),
            draw(st.integers(0, 0xFFFF)),
        )
        for n in node_ids
    }
    return Show(draw(TEXT), 1, fixtures, nodes, relays, buttons, cues)


def draw_fixtures(draw, node_id, types, fixtures) -> list[str]:
    names, address = [], 1 + draw(st.integers(0, 40))
    for k in range(draw(st.integers(0, 5))):
        ftype = draw(st.sampled_from(types))
        if address + ftype.footprint - 1 > 512:
            break
        name = f"{node_id}-fx{k}"
        fixtures[name] = Fixture(name, ftype, address, node_id)
        names.append(name)
        address += ftype.footprint + draw(st.integers(0, 3))
    return names


def draw_relays(draw, node_id, relays) -> None:
    pins = draw(st.lists(st.sampled_from(["R1", "R2", "R3", "R4"]), max_size=4, unique=True))
    for k, pin in enumerate(pins):
        duty = draw(st.none() | st.integers(1, 100))
        relays[f"{node_id}-relay{k}"] = Relay(
            name=f"{node_id}-relay{k}",
            node=node_id,
            pin=pin,
            max_on_ms=draw(st.none() | st.integers(1, 600_000)),
            min_off_ms=draw(st.integers(0, 60_000)),
            duty_pct=duty,
            duty_window_ms=draw(st.integers(1000, 600_000)),
            requires_arm=draw(st.booleans()),
            hazard=draw(st.booleans()),
        )


def draw_cues(draw, fixtures, relays) -> tuple[Cue, ...]:
    keys = sorted((f.name, p.name) for f in fixtures.values() for p in f.type.params)
    is16 = {(f.name, p.name): p.is16 for f in fixtures.values() for p in f.type.params}
    cues, number = [], 0
    for _ in range(draw(st.integers(0, 25))):
        number += draw(st.integers(1, 2500))
        levels = {}
        for key in draw(st.lists(st.sampled_from(keys), max_size=8)) if keys else []:
            # Few distinct values, so cues often restate a tracked value (not a change).
            top = 0xFFFF if is16[key] else 0xFF
            levels[key] = draw(st.sampled_from([0, top, top // 2]) | st.integers(0, top))
        actions = ()
        if relays:
            actions = tuple(
                RelayAction(r, kind, draw(st.integers(1, 30_000)) if kind == "pulse" else 0)
                for r, kind in draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(sorted(relays)),
                            st.sampled_from(["on", "off", "pulse"]),
                        ),
                        max_size=3,
                    )
                )
            )
        auto = draw(st.sampled_from(["none", "follow", "hang"]))
        auto_ms = draw(st.integers(0, 120_000))
        cues.append(
            Cue(
                number=number,
                label=draw(TEXT),
                levels=levels,
                up_ms=draw(st.integers(0, 600_000)),
                down_ms=draw(st.integers(0, 600_000)),
                delay_ms=draw(st.integers(0, 60_000)),
                follow_ms=auto_ms if auto == "follow" else None,
                hang_ms=auto_ms if auto == "hang" else None,
                curve=draw(st.sampled_from(["linear", "s-curve"])),
                relays=actions,
            )
        )
    return tuple(cues)


def draw_buttons(draw, node_id, cues) -> list[Button]:
    pins = draw(st.lists(st.sampled_from([f"B{i}" for i in range(1, 9)]), max_size=5, unique=True))
    buttons = []
    for pin in pins:
        action = draw(st.sampled_from(["go", "back", "stop", "fire"] if cues else ["go", "stop"]))
        cue = draw(st.sampled_from([c.number for c in cues])) if action == "fire" else None
        buttons.append(
            Button(node_id, pin, action, cue, draw(st.integers(0, 200)), draw(st.integers(1, 60)))
        )
    return buttons


# --- the independent reference ---------------------------------------------------------------


def reference_looks(show: Show) -> list[dict[tuple[str, str], int]]:
    """Tracked value of every (fixture, param) after each cue, replayed from the model."""
    look = {(f.name, p.name): p.default for f in show.fixtures.values() for p in f.type.params}
    out = [dict(look)]
    for cue in show.cues:
        look.update(cue.all_levels)  # the cue's levels, then its parts'
        out.append(dict(look))
    return out  # out[0] is the base look, out[i + 1] the look after cue i


def reference_frame(show: Show, node_id: str, look: dict[tuple[str, str], int]) -> bytes:
    frame = bytearray(513)
    for name in show.nodes[node_id].fixtures:
        f = show.fixtures[name]
        for p in f.type.params:
            value = look[(name, p.name)]
            if p.is16:
                frame[f.address + p.offset] = value >> 8
                frame[f.address + p.fine_offset] = value & 0xFF
            else:
                frame[f.address + p.offset] = value
    return bytes(frame)


def reader_frame(reader: sf.ShowReader, values: array) -> bytes:
    frame = bytearray(513)
    for j in range(reader.n_params):
        coarse, fine = reader.param(j)
        if fine:
            frame[coarse], frame[fine] = values[j] >> 8, values[j] & 0xFF
        else:
            assert values[j] <= 0xFF
            frame[coarse] = values[j]
    return bytes(frame)


def expected_relays(show: Show, node_id: str) -> set[tuple]:
    return {
        (
            r.name,
            r.pin,
            r.max_on_ms or 0,
            r.min_off_ms,
            r.duty_window_ms if r.duty_pct is not None else 0,
            100 if r.duty_pct is None else r.duty_pct,
            (sf.RELAY_REQUIRES_ARM if r.requires_arm else 0) | (sf.RELAY_HAZARD if r.hazard else 0),
        )
        for r in show.relays.values()
        if r.node == node_id
    }


# --- checks -----------------------------------------------------------------------------------


def check_node(show: Show, node_id: str, blob: bytes) -> None:
    reader = sf.ShowReader(io.BytesIO(blob))
    node = show.nodes[node_id]
    assert (reader.node_id, reader.show_name) == (node_id, show.name)
    assert reader.n_cues == len(show.cues)
    assert reader.fault_mode == compiler.FAULT_MODES[node.on_fault]
    assert (reader.go_protect_ms, reader.stop_fade_ms) == (node.go_protect_ms, node.stop_fade_ms)
    assert {reader.relay(i) for i in range(reader.n_relays)} == expected_relays(show, node_id)
    check_buttons(show, node_id, reader)
    check_cues(show, node_id, reader)
    portable = sf.ShowReader(io.BytesIO(blob))
    portable.native = False  # the byte-by-byte decoder a big-endian machine would use
    check_cues(show, node_id, portable)
    assert sf.verify(io.BytesIO(blob), hashlib.sha256)
    assert sf.content_hash(io.BytesIO(blob)) == hashlib.sha256(blob[:-32]).digest()


def check_buttons(show: Show, node_id: str, reader: sf.ShowReader) -> None:
    got = set()
    for i in range(reader.n_buttons):
        pin, action, flags, cue_index, debounce, stuck = reader.button(i)
        cue = reader.cue_number(cue_index) if action == sf.BTN_FIRE else None
        assert action == sf.BTN_FIRE or cue_index == sf.NO_CUE
        got.add((pin, action, cue, debounce, stuck, flags))
    want = {
        (b.pin, compiler.BUTTON_ACTIONS[b.action], b.cue, b.debounce_ms, b.stuck_s, 0)
        for b in show.buttons
        if b.node == node_id
    }
    assert got == want


def check_cues(show: Show, node_id: str, reader: sf.ShowReader) -> None:
    looks = reference_looks(show)
    values = array("H", bytes(2 * max(1, reader.n_params)))
    reader.read_look(-1, values)
    assert reader_frame(reader, values) == reference_frame(show, node_id, looks[0])
    cue = sf.Cue(reader.max_changes, reader.max_actions, reader.max_parts)
    replayed = array("H", values)
    for i, model_cue in enumerate(show.cues):
        before = array("H", replayed)
        reader.read_cue(i, cue)
        check_cue_fields(reader, cue, model_cue)
        check_actions(show, node_id, reader, cue, model_cue)
        for k in range(cue.n_changes):
            replayed[cue.param(k)] = cue.value(k)
        want = reference_frame(show, node_id, looks[i + 1])
        assert reader_frame(reader, replayed) == want  # tracking via the changes
        assert reader_frame(reader, reader.read_look(i, values)) == want  # via keyframes
        changed = [j for j in range(reader.n_params) if before[j] != replayed[j]]
        # only real changes, each once (in runs: the cue's own, then each part's)
        assert sorted(cue.param(k) for k in range(cue.n_changes)) == changed
        assert reader.find_cue(model_cue.number) == i
    assert reader.find_cue(0) == -1
    if show.cues:
        assert reader.find_cue(show.cues[-1].number + 1) == -1


def check_cue_fields(reader: sf.ShowReader, cue: sf.Cue, model_cue: Cue) -> None:
    auto = sf.AUTO_NONE, 0
    if model_cue.follow_ms is not None:
        auto = sf.AUTO_FOLLOW, model_cue.follow_ms
    elif model_cue.hang_ms is not None:
        auto = sf.AUTO_HANG, model_cue.hang_ms
    assert (cue.number, cue.up_ms, cue.down_ms, cue.delay_ms) == (
        model_cue.number,
        model_cue.up_ms,
        model_cue.down_ms,
        model_cue.delay_ms,
    )
    assert (cue.auto_mode, cue.auto_ms) == auto
    assert cue.curve == (sf.CURVE_SCURVE if model_cue.curve == "s-curve" else sf.CURVE_LINEAR)
    assert reader.string(cue.label_ref) == model_cue.label == reader.label(cue.index)


def check_actions(show, node_id, reader, cue, model_cue) -> None:
    got = [
        (reader.relay(cue.action_relay[k])[0], cue.action_kind[k], cue.action_ms[k])
        for k in range(cue.n_actions)
    ]
    kinds = {"off": sf.ACT_OFF, "on": sf.ACT_ON, "pulse": sf.ACT_PULSE}
    want = [
        (a.relay, kinds[a.kind], a.duration_ms)
        for a in model_cue.relays
        if show.relays[a.relay].node == node_id
    ]
    # Per relay, the actions keep the show's order; across relays the order is the table's.
    assert sorted(got, key=lambda a: a[0]) == sorted(want, key=lambda a: a[0])


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(shows())
def test_every_node_round_trips_through_the_firmware_reader(show: Show) -> None:
    blobs = compiler.compile_show(show)
    assert list(blobs) == sorted(show.nodes)
    for node_id, blob in blobs.items():
        check_node(show, node_id, blob)


@settings(max_examples=30, deadline=None)
@given(shows(), st.integers(1, 5))
def test_any_keyframe_interval_gives_the_same_looks(show: Show, every: int) -> None:
    for node_id, ns in compiler.node_shows(show).items():
        blob = showbin.encode(dataclasses.replace(ns, keyframe_every=every))
        check_node(show, node_id, blob)


@settings(max_examples=30, deadline=None)
@given(shows(), st.randoms(use_true_random=False))
def test_output_does_not_depend_on_dict_or_list_order(show: Show, rnd: random.Random) -> None:
    first = compiler.compile_show(show)
    assert compiler.compile_show(show) == first
    assert compiler.compile_show(shuffled(show, rnd)) == first


def shuffled(show: Show, rnd: random.Random) -> Show:
    """The same show with every dict and unordered collection in another order."""

    def mix(items):
        items = list(items)
        rnd.shuffle(items)
        return items

    nodes = {
        k: dataclasses.replace(n, fixtures=tuple(mix(n.fixtures)))
        for k, n in mix(show.nodes.items())
    }
    cues = tuple(dataclasses.replace(c, levels=dict(mix(c.levels.items()))) for c in show.cues)
    return dataclasses.replace(
        show,
        fixtures=dict(mix(show.fixtures.items())),
        nodes=nodes,
        relays=dict(mix(show.relays.items())),
        buttons=tuple(mix(show.buttons)),
        cues=cues,
    )


@settings(max_examples=40, deadline=None)
@given(shows(), st.data())
def test_verify_rejects_any_single_flipped_byte(show: Show, data: st.DataObject) -> None:
    for blob in compiler.compile_show(show).values():
        assert sf.verify(io.BytesIO(blob), hashlib.sha256)
        pos = data.draw(st.integers(0, len(blob) - 1))
        flip = data.draw(st.integers(1, 255))
        bad = bytearray(blob)
        bad[pos] ^= flip
        assert not sf.verify(io.BytesIO(bytes(bad)), hashlib.sha256)


def test_verify_rejects_truncated_and_extended_files() -> None:
    show = Show("s", 1, {}, {"n": Node("n", "pico", ())}, {}, (), (Cue(1000),))
    blob = compiler.compile_show(show)["n"]
    assert sf.verify(io.BytesIO(blob), hashlib.sha256)
    assert not sf.verify(io.BytesIO(blob[:-1]), hashlib.sha256)
    assert not sf.verify(io.BytesIO(blob + b"\0"), hashlib.sha256)
    assert not sf.verify(io.BytesIO(b""), hashlib.sha256)


def test_unknown_node_names_the_nodes_that_exist() -> None:
    show = Show("s", 1, {}, {"b": Node("b", "pico", ()), "a": Node("a", "pico", ())}, {}, (), ())
    with pytest.raises(compiler.CompileError, match=r"no node 'zz'.*nodes in this show: a, b"):
        compiler.compile_show(show, "zz")
    assert list(compiler.compile_show(show, "b")) == ["b"]
