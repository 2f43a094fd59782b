"""An emulated Pico booted from a prepared drive image (firmware + show installed once,
cached by content hash): buttons pressed at the pin, relays and LEDs sensed at their pins,
the DMX line read on the simulated clock, and a power cut in the middle of a flash write.

One chip per module. Wall-clock limits are hang guards only; figures are simulated time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cuenode.emulator.pico import DMX_TX_GPIO
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import read_files
from pico_support import BOOTED_S, CUE1, booted_pico1

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(600)]
B1_GPIO = 6  # boards/pico.py BUTTONS["B1"]: to ground, internal pull-up
RELAY_GPIOS = (2, 3, 4, 5)  # active low: off = high


@pytest.fixture(scope="module")
def chip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedPico]:
    with booted_pico1(tmp_path_factory.mktemp("pico-chip")) as pico:
        yield pico


def frame_after(chip: EmulatedPico, seconds: float) -> bytes:
    """The slots of the last whole DMX packet read off the pin after `seconds` more."""
    chip.wait_sim(seconds)
    frame = chip.node.io.request_frame()
    assert frame is not None, "no DMX packet on GPIO0"
    return frame.data


def test_relays_are_off_and_buttons_pulled_up_at_boot(chip: EmulatedPico) -> None:
    state = chip.state()
    assert all(state["pins"][str(g)] == 1 for g in RELAY_GPIOS)  # active-low: high = off
    assert state["modes"][str(B1_GPIO)] == "in-pull-up"
    assert chip.level(B1_GPIO) == 1


def test_standing_by_the_line_carries_a_dark_universe(chip: EmulatedPico) -> None:
    data = frame_after(chip, 0.1)
    assert len(data) == 513 and data[0] == 0 and not any(data[1:])


def test_pressing_b1_at_its_pin_runs_cue_1(chip: EmulatedPico) -> None:
    t0 = chip.sim_time()
    chip.press(B1_GPIO)
    trace = chip.record([B1_GPIO, DMX_TX_GPIO], 0.05)
    chip.release(B1_GPIO)
    assert trace[B1_GPIO].start == 0  # held low from outside for the whole record
    data = frame_after(chip, 0.1)
    assert {slot: data[slot] for slot in CUE1} == CUE1
    assert chip.sim_time() - t0 < 0.5


def test_dmx_frames_have_dmx_timing_on_the_simulated_clock(chip: EmulatedPico) -> None:
    trace = chip.record([DMX_TX_GPIO], 0.25)[DMX_TX_GPIO]
    lows = [ns for level, ns in trace.runs()[1:-1] if level == 0]
    breaks = [ns for ns in lows if ns >= 88_000]
    assert breaks and all(ns >= 92_000 for ns in breaks)
    bits = [ns for ns in lows if ns < 88_000]
    # every low run inside a packet is a whole number of 4 µs bits, to PIO-clock accuracy
    assert bits and all(abs(ns / 4000 - round(ns / 4000)) < 0.01 for ns in bits)


def test_a_power_cut_mid_flash_write_keeps_the_drive_mountable(chip: EmulatedPico) -> None:
    boots = chip.boots
    chip.exec("open('keep.txt', 'w').write('kept')")
    chip.node.power_cut_at_write(3)
    with pytest.raises(RuntimeError):  # the chip loses power during this write
        chip.exec("open('big.bin', 'wb').write(bytes(20000))")
    chip.node.wait_boot(boots + 1, timeout=60)
    files = read_files(chip.node.flash_image.read_bytes())  # LittleFS, copy-on-write
    assert files["keep.txt"] == b"kept" and "show.bin" in files
    chip.until_sim(BOOTED_S)
    assert chip.exec("print(open('keep.txt').read())").strip() == "kept"
