"""The compiled format: docs/compiled-show.md matches the struct layouts, the reader refuses
what it cannot read, the encoder refuses what does not fit, and the compiler's edge cases."""

from __future__ import annotations

import dataclasses
import io
import re
import struct
from array import array
from pathlib import Path

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

DOC = Path(__file__).resolve().parent.parent / "docs" / "compiled-show.md"
TYPE_SIZES = {"u8": 1, "u16": 2, "u32": 4, "i32": 4}
SECTION = re.compile(r"`(\w+_FMT) = \"([^\"]+)\"`, (\d+) bytes")
ROW = re.compile(r"^\| (\d+) \| ([^|]+) \| (\w+) \|")


def doc_tables() -> dict[str, tuple[str, int, list[tuple[int, int, str]]]]:
    """FMT name -> (format string, size, [(offset, size, field)]) from the doc's tables."""
    tables: dict[str, tuple[str, int, list[tuple[int, int, str]]]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        if m := SECTION.search(line):
            current = m.group(1)
            tables[current] = (m.group(2), int(m.group(3)), [])
        elif line.startswith("#"):
            current = None
        elif current and (m := ROW.match(line)):
            kind = m.group(2).strip()
            size = TYPE_SIZES.get(kind) or int(kind.split()[0])
            tables[current][2].append((int(m.group(1)), size, m.group(3)))
    return tables


def fmt_sizes(fmt: str) -> list[int]:
    return [struct.calcsize("<" + code) for code in re.findall(r"\d*[a-zA-Z]", fmt[1:])]


def test_every_layout_in_the_doc_matches_the_reader() -> None:
    tables = doc_tables()
    assert set(tables) == {
        "HEADER_FMT", "PARAM_FMT", "RELAY_FMT", "BUTTON_FMT", "INDEX_FMT", "CUE_FMT",
        "CHANGE_FMT", "ACTION_FMT", "PART_FMT", "EFFECT_FMT", "MEMBER_FMT",
    }  # fmt: skip
    for name, (fmt, size, rows) in tables.items():
        assert fmt == getattr(sf, name), name
        assert size == struct.calcsize(fmt), name
        assert [s for _, s, _ in rows] == fmt_sizes(fmt), name
        offsets = [o for o, _, _ in rows]
        assert offsets == [sum(s for _, s, _ in rows[:i]) for i in range(len(rows))], name


def small_show() -> Show:
    ftype = FixtureType("par", (ParamDef("dim", 0), ParamDef("pan", 1, 2, 0x8000)), 3)
    fixtures = {"p1": Fixture("p1", ftype, 1, "n"), "p2": Fixture("p2", ftype, 10, "m")}
    relays = {"fog": Relay("fog", "n", "R1", max_on_ms=10_000, requires_arm=True, hazard=True)}
    cues = (
        Cue(1000, "one", {("p1", "dim"): 255, ("p1", "pan"): 0, ("p2", "dim"): 10}),
        Cue(1500, "only m", {("p2", "dim"): 20}, relays=(RelayAction("fog", "pulse", 3000),)),
        Cue(2000, "same", {("p1", "dim"): 255}, hang_ms=1500),
    )
    buttons = (Button("n", "B2", "fire", 1500), Button("n", "B1", "go"))
    nodes = {"n": Node("n", "pico", ("p1",)), "m": Node("m", "pico", ("p2",), "blackout")}
    return Show("small", 1, fixtures, nodes, relays, buttons, cues)


def reader(blob: bytes) -> sf.ShowReader:
    return sf.ShowReader(io.BytesIO(blob))


def test_every_node_has_every_cue_even_without_changes() -> None:
    blobs = compiler.compile_show(small_show())
    n, m = reader(blobs["n"]), reader(blobs["m"])
    assert n.n_cues == m.n_cues == 3
    cue = sf.Cue(n.max_changes, n.max_actions)
    n.read_cue(1, cue)  # cue 1.5 changes only node m's fixture, and fires n's fog
    assert (cue.number, cue.n_changes, cue.n_actions) == (1500, 0, 1)
    assert (cue.action_relay[0], cue.action_kind[0], cue.action_ms[0]) == (0, sf.ACT_PULSE, 3000)
    n.read_cue(2, cue)  # restates p1.dim at 255: tracked already, so not a change
    assert (cue.n_changes, cue.auto_mode, cue.auto_ms) == (0, sf.AUTO_HANG, 1500)
    m.read_cue(1, cue)
    assert (cue.n_changes, cue.n_actions) == (1, 0)
    assert (m.fault_mode, n.fault_mode) == (sf.FAULT_BLACKOUT, sf.FAULT_HOLD)


def test_16bit_parameter_has_coarse_and_fine_slots_and_a_16bit_default() -> None:
    r = reader(compiler.compile_show(small_show())["m"])
    assert [r.param(i) for i in range(r.n_params)] == [(10, 0), (11, 12)]
    assert list(r.read_look(-1, array("H", [0, 0]))) == [0, 0x8000]


def test_buttons_sorted_by_pin_and_fire_points_at_the_cue_index() -> None:
    r = reader(compiler.compile_show(small_show())["n"])
    assert r.button(0) == ("B1", sf.BTN_GO, 0, sf.NO_CUE, 10, 5)
    assert r.button(1) == ("B2", sf.BTN_FIRE, 0, 1, 10, 5)
    assert r.relay(0) == ("fog", "R1", 10_000, 0, 0, 100, sf.RELAY_REQUIRES_ARM | sf.RELAY_HAZARD)


def test_reader_refuses_other_files_and_versions() -> None:
    blob = compiler.compile_show(small_show())["n"]
    with pytest.raises(sf.ShowError, match="not a compiled cuenode show"):
        reader(b"PK\x03\x04" + blob[4:])
    with pytest.raises(sf.ShowError, match="not a compiled cuenode show"):
        reader(blob[:10])
    newer = blob[:4] + struct.pack("<H", 3) + blob[6:]
    with pytest.raises(sf.ShowError, match="compiled show format 3, this firmware reads 2"):
        reader(newer)
    older = blob[:4] + struct.pack("<H", 1) + blob[6:]  # a show compiled before cue parts
    with pytest.raises(sf.ShowError, match="compiled show format 1, this firmware reads 2"):
        reader(older)


def test_reader_reports_truncation_and_bad_requests() -> None:
    blob = compiler.compile_show(small_show())["n"]
    r = reader(blob)
    cue = sf.Cue(r.max_changes, r.max_actions)
    with pytest.raises(sf.ShowError, match="no cue index 3"):
        r.read_cue(3, cue)
    with pytest.raises(sf.ShowError, match="no cue index 3"):
        r.read_look(3, array("H", [0]))
    with pytest.raises(sf.ShowError, match=r"cue 0 needs a Cue\(2, 0, 0\)"):
        r.read_cue(0, sf.Cue(1, 1))  # cue 1 changes p1.dim and p1.pan here
    for size in (r.strings_off + 1, r.index_off + 8):  # strings come last: no node id
        with pytest.raises(sf.ShowError, match="compiled show is truncated"):
            reader(blob[:size])
    cut = reader(blob[: len(blob) - 33])  # no trailer, and the last label (cue 2) cut short
    assert cut.label(1) == "only m"
    with pytest.raises(sf.ShowError, match="compiled show is truncated"):
        cut.label(2)


def test_encoder_refuses_values_that_do_not_fit() -> None:
    ns = compiler.node_shows(small_show())["n"]
    for bad, message in (
        (dataclasses.replace(ns, go_protect_ms=70_000), "go_protect_ms is 70000"),
        (dataclasses.replace(ns, cues=ns.cues[::-1]), "cue numbers must increase"),
        (dataclasses.replace(ns, keyframe_every=0), "keyframe_every is 0"),
        (
            dataclasses.replace(ns, cues=(dataclasses.replace(ns.cues[0], up_ms=1 << 29),)),
            "up_ms is 536870912; the compiled format allows 0..536870911",
        ),
    ):
        with pytest.raises(showbin.EncodeError, match=message):
            showbin.encode(bad)


def test_compile_errors_are_one_line_cuenode_errors() -> None:
    show = small_show()
    clash = dataclasses.replace(
        show, fixtures=dict(show.fixtures, p1=dataclasses.replace(show.fixtures["p1"], address=511))
    )
    with pytest.raises(compiler.CompileError, match=r"p1\.pan on node 'n' lands on DMX slot 513"):
        compiler.compile_show(clash)
    both = dataclasses.replace(show, cues=(Cue(1000, follow_ms=1, hang_ms=1),))
    with pytest.raises(compiler.CompileError, match="cue 1 has both follow and hang"):
        compiler.compile_show(both)
    lost = dataclasses.replace(show, buttons=(Button("n", "B1", "fire", 9250),))
    with pytest.raises(compiler.CompileError, match="fires cue 9.25, which the show does not"):
        compiler.compile_show(lost)
    with pytest.raises(compiler.CompileError, match="stop_fade_ms is 70000"):
        compiler.compile_show(
            dataclasses.replace(
                show, nodes=dict(show.nodes, n=Node("n", "pico", (), "hold", 500, 70_000))
            )
        )


def test_cue_numbers_print_as_written() -> None:
    assert [compiler.format_cue_number(n) for n in (1000, 1500, 12250, 7, 100_000)] == [
        "1", "1.5", "12.25", "0.007", "100",
    ]  # fmt: skip


def test_keyframes_bound_the_replay_of_heavy_shows() -> None:
    heavy = tuple(showbin.CueRec(1000 * (i + 1), changes=((0, i % 256),) * 512) for i in range(40))
    assert compiler.keyframe_interval(heavy) == 5  # replays at most 4 x 512 = 2048 changes
    light = tuple(showbin.CueRec(1000 * (i + 1), changes=((0, 1),) * 10) for i in range(40))
    assert compiler.keyframe_interval(light) == compiler.MAX_KEYFRAME_EVERY
    assert compiler.keyframe_interval(()) == compiler.MAX_KEYFRAME_EVERY
    mixed = light[:20] + tuple(dataclasses.replace(c, number=c.number + 40_000) for c in heavy)
    every = compiler.keyframe_interval(mixed)
    counts = [len(c.changes) for c in mixed]
    worst = max(sum(counts[s + 1 : s + every]) for s in range(0, len(counts), every))
    assert worst <= compiler.REPLAY_BUDGET
    worse = max(sum(counts[s + 1 : s + every + 1]) for s in range(0, len(counts), every + 1))
    assert worse > compiler.REPLAY_BUDGET  # the largest spacing that keeps the bound


def test_the_compiler_writes_the_chosen_keyframe_spacing() -> None:
    ns = compiler.node_shows(small_show())["n"]
    assert ns.keyframe_every == compiler.keyframe_interval(ns.cues)
    assert reader(showbin.encode(ns)).keyframe_every == ns.keyframe_every
