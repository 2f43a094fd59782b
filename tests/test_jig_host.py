"""The HIL jig's host side on CPython: the PIO model against the program on the chip, the
jig's decoding against the suite's own line decoder, the tick clock, Recording."""

from __future__ import annotations

import ast
import sys
from types import SimpleNamespace

import pytest
from cuenode.hil import dmxline
from cuenode.hil.jig import TICKS_PERIOD, Clock, dmxwords, jig_wiring, packets_from_words
from cuenode.hil.rig import Recording
from cuenode.hil.wiring import board_data
from cuenode.paths import FIRMWARE_DIR

sys.path.insert(0, str(FIRMWARE_DIR.parent / "tests" / "firmware"))
import jig_model  # noqa: E402


def assembled_dmx_rx() -> list[tuple[str | None, str, object, int]]:
    """jigdmx.dmx_rx's body run with a recording stand-in for MicroPython's PIO DSL."""
    tree = ast.parse((FIRMWARE_DIR / "jig" / "jigdmx.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "dmx_rx")
    fn.decorator_list = []
    out: list[list] = []
    pending: list[str | None] = [None]

    class Ins:
        def __init__(self, op: str, arg: object) -> None:
            out.append([pending[0], op, arg, 0])
            pending[0] = None

        def __getitem__(self, delay: int) -> None:
            out[-1][3] = delay

    def label(name: str) -> None:
        pending[0] = name

    def jmp(cond: str, target: str | None = None) -> Ins:
        if target is None:
            return Ins("jmp", cond)
        return Ins({"pin": "jmp_pin", "x_dec": "jmp_x_dec", "y_dec": "jmp_y_dec"}[cond], target)

    def mov(dst: str, src: str) -> Ins:
        return Ins({("x", "~null"): "mov_x_ones", ("isr", "x"): "mov_isr_x"}[(dst, src)], None)

    names = {
        "wrap_target": lambda: None,
        "wrap": lambda: None,
        "label": label,
        "jmp": jmp,
        "mov": mov,
        "invert": lambda s: "~" + s,
        "in_": lambda src, n: Ins(f"in_{src}", n),
        "set": lambda dst, v: Ins(f"set_{dst}", v),
        "push": lambda _block: Ins("push", None),
        **{n: n for n in ("x", "y", "isr", "null", "pins", "pin", "x_dec", "y_dec", "block")},
    }
    namespace: dict = dict(names)
    exec(compile(ast.Module([fn], []), "jigdmx.py", "exec"), namespace)  # noqa: S102
    namespace["dmx_rx"]()
    return [tuple(i) for i in out]


def test_the_model_runs_the_program_that_goes_on_the_chip() -> None:
    assert assembled_dmx_rx() == jig_model.PROGRAM


def emulator_frames(n: int) -> list[SimpleNamespace]:
    data = bytes([0] + [(i * 13) & 0xFF for i in range(1, 33)])
    return [
        SimpleNamespace(t_us=100 + i * 2000, break_us=176, mab_us=12, data=data) for i in range(n)
    ]


@pytest.mark.parametrize("start_us", [0.0, 3.3, 57.9])
def test_the_jig_reads_a_line_as_the_suites_decoder_does(start_us: float) -> None:
    edges = dmxline.edges_from_frames(emulator_frames(4))
    end = edges[-1][0] + 500
    reference = dmxline.decode(edges, end)
    dec = dmxwords.Decoder()
    dec.feed(jig_model.to_bytes(jig_model.run(edges, end, start_us)))
    ours = packets_from_words(dec, 0, 8_000_000)
    ours = [
        dmxline.Packet(
            p.t_us + start_us,
            p.break_us,
            p.mab_us,
            p.data,
            [s + start_us for s in p.starts_us],
            p.framing_errors,
        )
        for p in ours
    ]
    assert len(ours) == 3 and len(reference) == 4  # the jig cannot know the last one ended
    for mine, ref in zip(ours, reference, strict=False):
        assert mine.data == ref.data and mine.framing_errors == ref.framing_errors == 0
        assert abs(mine.t_us - ref.t_us) <= 0.25
        assert abs(mine.break_us - ref.break_us) <= 0.25 and abs(mine.mab_us - ref.mab_us) <= 0.25
        assert max(abs(a - b) for a, b in zip(mine.starts_us, ref.starts_us, strict=True)) <= 0.25


def test_the_clock_unwraps_the_jigs_30_bit_ticks() -> None:
    clock = Clock()
    near_wrap = TICKS_PERIOD - 1000
    assert clock.us(near_wrap) == near_wrap
    assert clock.us(500) == TICKS_PERIOD + 500  # wrapped
    assert clock.us(TICKS_PERIOD - 10) == TICKS_PERIOD - 10  # an older stamp stays older
    assert clock.us(900) == TICKS_PERIOD + 900


def test_a_recording_with_decoded_packets_hands_them_out() -> None:
    packet = dmxline.Packet(5.0, 176.0, 12.0, bytearray(3), [193.0, 237.0, 281.0])
    rec = Recording(0.0, 100.0, dmx_packets=[packet])
    assert rec.packets() == [packet] and rec.dmx_edges == []


def test_the_wire_command_carries_the_boards_hil_jig() -> None:
    wiring = jig_wiring(board_data("pico"))
    assert wiring["dmx"] == 2 and wiring["buttons"]["B1"] == 6 and wiring["power"] == 26
