"""D1 (issue 8): the rp2 DMX driver never lets the DMA read a buffer the engine is writing.

firmware/board_rp2.py runs here under CPython against a model of its hardware boundary (the
`rp2` module): a DMA channel that reads its source buffer one byte at a time *when it reads
it*, as the real one does while the PIO drains the FIFO at 44 us a slot, and a state machine.
The real engine fades a 16-bit pan through 0x75FF -> 0x7600 and ticks in the middle of a
packet (what a late frame, a GO from the buttons task or a link request does on the chip).

The same scenario against a model of the old driver (it streamed the live universe: the two
lines of its old `send`, kept below) shows the defect: 0x7500 on the line. So the test fails
against the old behaviour and passes against the double-buffered driver.

Later, on the emulated Pico (branch pico-runner), the same fade captured off GPIO0 and decoded
by sigrok checks it on the chip: every packet's pan must be a value the engine wrote in one
tick (see docs/firmware.md, "DMX output").
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe
from cuenode.build import showbin

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
PAN_COARSE, PAN_FINE = 1, 2  # slots: frame[1], frame[2]
FADE_MS = 65_535  # 0 -> 0xFFFF: the pan moves by one step every millisecond


class ModelDMA:
    """rp2.DMA at the level the driver sees it, plus `transfer(n)`: the channel moves the next
    n bytes into the FIFO, reading its source at that moment (DREQ-paced on the chip)."""

    def __init__(self) -> None:
        self.src: bytearray | None = None
        self.pos = 0
        self.left = 0
        self.sent = bytearray()

    def pack_ctrl(self, **fields: object) -> dict:
        return fields

    def config(self, read, write, count, ctrl, trigger) -> None:  # noqa: ANN001
        assert trigger and self.left == 0, "a packet started while the DMA was still reading"
        self.src, self.pos, self.left, self.sent = read, 0, count, bytearray()

    def active(self) -> bool:
        return self.left > 0

    def transfer(self, n: int) -> None:
        assert self.src is not None
        for _ in range(min(n, self.left)):
            self.sent.append(self.src[self.pos])
            self.pos += 1
            self.left -= 1


class ModelStateMachine:
    def __init__(self, sm_id: int, program: object, **kw: object) -> None:
        self.words: list[int] = []

    def active(self, on: int) -> None:
        pass

    def put(self, word: int) -> None:
        self.words.append(word)

    def tx_fifo(self) -> int:
        return 0  # the model's FIFO is drained as the DMA transfers


def model_rp2() -> types.ModuleType:
    rp2 = types.ModuleType("rp2")
    rp2.PIO = types.SimpleNamespace(OUT_HIGH=3, SHIFT_RIGHT=1, JOIN_TX=1)  # type: ignore[attr-defined]
    rp2.asm_pio = lambda **kw: lambda program: program  # type: ignore[attr-defined]
    rp2.StateMachine = ModelStateMachine  # type: ignore[attr-defined]
    rp2.DMA = ModelDMA  # type: ignore[attr-defined]
    return rp2


@pytest.fixture
def board_rp2(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    monkeypatch.setitem(sys.modules, "rp2", model_rp2())
    spec = importlib.util.spec_from_file_location("board_rp2", FIRMWARE / "board_rp2.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_driver(board_rp2: types.ModuleType) -> type:
    """The driver before the fix: its DMA streamed the universe itself (old `send`, verbatim)."""

    class LiveBufferDmxOut(board_rp2.DmxOut):
        def send(self, frame):  # noqa: ANN001, ANN202
            self.sm.put(len(frame) - 1)  # the count word first, then the bytes by DMA
            self.dma.config(
                read=frame, write=self.txf, count=len(frame), ctrl=self.ctrl, trigger=True
            )

    return LiveBufferDmxOut


def pan_fade_engine(tmp_path: Path, start: int, end: int, fade_ms: int) -> tuple[Engine, Universe]:
    """The real engine with one 16-bit pan (slots 1/2) that cue 1 fades start -> end."""
    show = showbin.NodeShow(
        node_id="pico",
        show_name="pan",
        params=((PAN_COARSE, PAN_FINE),),
        base_look=(start,),
        cues=(showbin.CueRec(number=1000, up_ms=fade_ms, down_ms=fade_ms, changes=((0, end),)),),
        go_protect_ms=0,
    )
    path = tmp_path / "show.bin"
    path.write_bytes(showbin.encode(show))
    universe, log = Universe(), EventLog(16)
    engine = Engine(universe, RelayGovernor(4, log), log)
    engine.load(ShowReader(open(path, "rb")), 0)  # noqa: SIM115 - the engine keeps it open
    assert engine.go(0)
    return engine, universe


def pan(buf: bytes | bytearray) -> int:
    return buf[PAN_COARSE] << 8 | buf[PAN_FINE]


def carry_tick(tmp_path: Path) -> int:
    """The tick t at which the fade 0x7500 -> 0x7900 shows 0x75FF, and 0x7600 at t + 1."""
    engine, universe = pan_fade_engine(tmp_path, 0x7500, 0x7900, 16_384)
    for t in range(16_384):
        engine.tick(t)
        if pan(universe.frame) == 0x7600:
            return t - 1
    raise AssertionError("the fade never reached 0x7600")


def send_with_tick_mid_packet(dmx, engine, universe, t_ms, after_bytes, gap_ms=1) -> tuple:  # noqa: ANN001
    """Tick at t_ms, start a packet, tick at t_ms + gap_ms once the DMA has read `after_bytes`
    bytes, let the packet finish: (pan sent, pan after the first tick, after the second)."""
    engine.tick(t_ms)
    before = pan(universe.frame)
    dmx.send(universe.frame)
    dmx.dma.transfer(after_bytes)
    engine.tick(t_ms + gap_ms)  # the engine writes coarse and fine while the packet is going out
    after = pan(universe.frame)
    dmx.dma.transfer(513)
    assert not dmx.busy()
    return pan(dmx.dma.sent), before, after


def test_the_old_driver_tears_a_16_bit_pan(board_rp2, tmp_path: Path) -> None:
    t = carry_tick(tmp_path)
    engine, universe = pan_fade_engine(tmp_path, 0x7500, 0x7900, 16_384)
    dmx = old_driver(board_rp2)(object(), object())
    # The DMA has read the coarse byte (0x75), not the fine one, when the engine writes 0x7600.
    sent = send_with_tick_mid_packet(dmx, engine, universe, t, PAN_COARSE + 1)
    assert sent == (0x7500, 0x75FF, 0x7600)


def test_the_double_buffered_driver_sends_whole_ticks(board_rp2, tmp_path: Path) -> None:
    t = carry_tick(tmp_path)
    engine, universe = pan_fade_engine(tmp_path, 0x7500, 0x7900, 16_384)
    dmx = board_rp2.DmxOut(object(), object())
    sent = send_with_tick_mid_packet(dmx, engine, universe, t, PAN_COARSE + 1)
    assert sent == (0x75FF, 0x75FF, 0x7600)  # the next packet carries 0x7600


@pytest.mark.parametrize("driver", ["old", "double-buffered"])
def test_a_whole_pan_fade_frame_by_frame(board_rp2, tmp_path: Path, driver: str) -> None:
    """A full 0 -> 0xFFFF pan fade, a packet every 23 ms, the engine ticking again 12 ms into
    each packet with the DMA at byte 0..3 (around the pan's slots): the double-buffered driver
    sends only values the engine wrote in one tick; the old one tears."""
    engine, universe = pan_fade_engine(tmp_path, 0, 0xFFFF, 16_384)
    cls = old_driver(board_rp2) if driver == "old" else board_rp2.DmxOut
    dmx = cls(object(), object())
    torn = 0
    for k in range(16_384 // 23 + 1):
        sent, before, after = send_with_tick_mid_packet(dmx, engine, universe, 23 * k, k % 4, 12)
        torn += sent != before if driver != "old" else sent not in (before, after)
    if driver == "old":
        assert torn >= 10, torn  # 33 of 713 packets with this pattern
    else:
        assert torn == 0
