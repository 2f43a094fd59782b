"""The HIL jig firmware on an emulated Pico, driven by the host driver over the chip's pty.

The DMX source is the node's own transmitter, firmware/board_rp2.DmxOut (PIO0, DMA), run on
the SAME emulated chip on the jig's DMX pin (GP2): the jig's PIO1 receiver reads the pad the
other state machine drives, as a Pico does (no second chip: two emulated chips cannot be
stepped together here, see docs/hil.md). The test image's main.py starts that transmitter
once the host has wired the jig, then runs the real jig loop. Assertions are on simulated
time: the jig's ticks_us and the runner's pin recorder share the chip's clock.

One chip for the module; wall-clock limits are hang guards only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cuenode.emulator.pico import missing_parts
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import image_with
from cuenode.hil import dmxline, wiring
from cuenode.hil.jig import Jig, chip_files
from cuenode.paths import FIRMWARE_DIR

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(600)]

DMX_GPIO, B1_GPIO, R2_GPIO = 2, 6, 15  # boards/pico.py HIL_JIG: jig-side pins
SQUARE_HALF_US = 10_000  # R1 (GP14) toggled by a PIO square wave on the chip
IRQ_JITTER_US = 50
START_STAMP_US = 10  # jig time of the receiver's cycle 0: ticks_us around sm.active(1)
PATTERN = bytes([0] + [(7 * i) & 0xFF for i in range(1, 513)])  # slot 1 counts packets

# The signal source: board_rp2.DmxOut on the jig's own DMX pin, fed from a timer, started
# after `wire` (which makes the DMX pin an input of the jig) so it owns the pad's output.
SOURCE_MAIN = b"""
import jigapp
import rp2
from machine import Pin, Timer
from board_rp2 import DmxOut

@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def square():  # at 2 kHz: 10 ms high, 10 ms low (a relay the node switches)
    set(pins, 1)[19]
    set(pins, 0)[19]

FRAME = bytearray(%r)
SENT = [0]

def feed(_t):
    if not OUT[0].busy():
        FRAME[1] = SENT[0] & 0xFF
        OUT[0].send(FRAME)
        SENT[0] += 1

OUT = [None]

class SourceJig(jigapp.Jig):
    def wire(self, cfg):
        super().wire(cfg)
        if OUT[0] is None:
            OUT[0] = DmxOut(Pin(cfg["dmx"]), None, 0)
            Timer(period=1, callback=feed)
            rp2.StateMachine(1, square, freq=2000, set_base=Pin(cfg["relays"]["R1"])).active(1)

jigapp.Jig = SourceJig
jigapp.run()
""" % (PATTERN,)


@pytest.fixture(scope="module")
def chip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedPico]:
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    files = dict(chip_files())
    files["main.py"] = SOURCE_MAIN
    files["board_rp2.py"] = (FIRMWARE_DIR / "board_rp2.py").read_bytes()
    files["cuefw/__init__.py"] = b""
    files["cuefw/compat.py"] = (FIRMWARE_DIR / "cuefw" / "compat.py").read_bytes()
    with EmulatedPico(tmp_path_factory.mktemp("jig"), "jig", image=image_with(files)) as pico:
        pico.until_sim(0.5)
        yield pico


@pytest.fixture(scope="module")
def jig(chip: EmulatedPico) -> Iterator[Jig]:
    opened = Jig.open(chip.port, wiring.board_data("pico"))
    yield opened
    opened.close()


def test_hello_reports_version_and_the_wiring_it_was_given(jig: Jig) -> None:
    info = jig.ask("hello")
    assert info["version"] == "1" and info["sm_hz"] == "8000000"
    assert '"B1":6' in info["wiring"] and '"dmx":2' in info["wiring"]


def test_a_press_pulls_the_pin_low_and_a_release_lets_it_float(
    chip: EmulatedPico, jig: Jig
) -> None:
    jig.drive("B1", pressed=True)
    assert chip.state()["modes"][str(B1_GPIO)] == "out-low"
    jig.drive("B1", pressed=False)
    assert chip.state()["modes"][str(B1_GPIO)] == "in"  # high impedance: no pull, no drive


def test_a_sensed_pin_reads_what_the_node_drives(chip: EmulatedPico, jig: Jig) -> None:
    chip.node.io.drive(R2_GPIO, 0)
    assert jig.sense("R2") == 0
    chip.node.io.drive(R2_GPIO, 1)
    assert jig.sense("R2") == 1


@pytest.fixture(scope="module")
def recorded(chip: EmulatedPico, jig: Jig) -> dict:
    """The jig records the DMX pin and R1 until the runner's own 120 ms recording of the DMX
    pin (the independent reading the jig's is checked against) is done, then stops."""
    seen: dict = {}

    def action() -> None:
        seen["traces"] = chip.record([DMX_GPIO], 0.12)
        jig.ask("stop")

    seen["rec"] = jig.record(5000, ("R1",), action)
    return seen


def runner_packets(recorded: dict) -> list[dmxline.Packet]:
    trace = recorded["traces"][DMX_GPIO]
    edges = [(t / 1000, level) for t, level in trace.edges]
    return dmxline.decode(edges, trace.t1_ns / 1000)


def test_the_jig_decodes_what_dmxout_sent(recorded: dict) -> None:
    packets = recorded["rec"].packets
    assert len(packets) >= 3, f"{len(packets)} packets"
    for p in packets:
        assert abs(p.break_us - 176) <= 0.25 and abs(p.mab_us - 12) <= 0.25, (p.break_us, p.mab_us)
        assert len(p.data) == 513 and p.framing_errors == 0
        assert bytes(p.data[2:]) == PATTERN[2:]
        slots = p.slot_times_us()
        assert min(slots) >= 43.75 and max(slots) <= 44.25, (min(slots), max(slots))
    counts = [p.data[1] for p in packets]
    assert counts == [(counts[0] + i) & 0xFF for i in range(len(counts))], counts  # none lost


def test_the_jig_agrees_with_the_runners_pin_recorder(recorded: dict) -> None:
    """Same line, same clock (the jig's ticks_us is the chip's simulated microseconds): the
    jig's packets are where the pin says, to the few us of stamping the machine's start."""
    jig_packets = recorded["rec"].packets
    last_end = jig_packets[-1].starts_us[-1]
    # not the runner's last packet: if its window ends inside the next break, dmxline reads
    # that break as one more 0x00 slot (with a framing error)
    theirs = [p for p in runner_packets(recorded)[:-1] if p.t_us < last_end]
    assert theirs, "the runner's window did not overlap the jig's (a very slow host?)"
    for ref in theirs:
        match = [p for p in jig_packets if abs(p.t_us - ref.t_us) <= START_STAMP_US]
        assert match, f"no jig packet at {ref.t_us} us: {[p.t_us for p in jig_packets]}"
        p = match[0]
        assert p.data == ref.data
        assert abs(p.break_us - ref.break_us) <= 0.25 and abs(p.mab_us - ref.mab_us) <= 0.25
        offsets = [a - b for a, b in zip(p.starts_us, ref.starts_us, strict=True)]
        assert max(offsets) - min(offsets) <= 0.25, (min(offsets), max(offsets))


def test_sensed_edges_are_timestamped_on_the_jig(recorded: dict) -> None:
    rec = recorded["rec"]
    edges = rec.pins["R1"]
    assert len(edges) >= 4, edges
    levels = [level for _, level in edges]
    assert all(a != b for a, b in zip(levels, levels[1:], strict=False)), levels
    halves = [b[0] - a[0] for a, b in zip(edges, edges[1:], strict=False)]
    # IRQ latency varies by what the CPU was doing when the edge came: a few us here
    jitter = max(abs(h - SQUARE_HALF_US) for h in halves)
    print(f"R1 half-periods {min(halves)}..{max(halves)} us (IRQ stamp jitter {jitter} us)")
    assert jitter <= IRQ_JITTER_US, halves
