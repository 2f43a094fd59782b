"""The load-in flow, unchanged, against an emulated Pico (MicroPython's RPI_PICO image on
rp2040js): a new, blank chip; the real mpremote; `cuenode flash`, `push`, `go`, `status`;
the DMX pin captured on the simulated clock and decoded by sigrok-cli.

One chip is booted for the whole module (tests run in order and build on each other, as a
rigger's steps do). Wall-clock limits here are hang guards only: every figure asserted is in
simulated time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cuenode.emulator.pico import DMX_TX_GPIO, missing_parts
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import firmware_files
from cuenode.emulator.pico.pins import write_pin_capture
from pico_support import BOOTED_S, CUE1, SHOW
from sigrok_dmx import need_sigrok, sigrok_packets, whole_packets

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(600)]
NAME = "pico1"
LINK_TIME_SCALE = 25  # hang guards: the chip may run at 1/10 of real time or less here
SHA256_OF_BLOB = (
    "import hashlib, binascii\n"
    "print(binascii.hexlify(hashlib.sha256(open('blob.bin', 'rb').read()).digest()))"
)


@pytest.fixture(scope="module")
def chip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedPico]:
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    with EmulatedPico(tmp_path_factory.mktemp("pico-loadin"), NAME, image=None) as pico:
        yield pico


def cuenode(chip: EmulatedPico, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI on the chip's pty. The chip runs at a fraction of real time on a loaded
    machine, so the link's wall-clock timeouts are stretched (CUENODE_LINK_TIME_SCALE)."""
    cmd = [sys.executable, "-m", "cuenode.cli", *args, "--port", chip.port]
    env = dict(os.environ, CUENODE_LINK_TIME_SCALE=str(LINK_TIME_SCALE))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def test_mpremote_names_the_rp2040(chip: EmulatedPico) -> None:
    out = chip.exec("import sys; print(sys.implementation._machine)")
    assert out.strip() == "Raspberry Pi Pico with RP2040"
    assert chip.files() == {}  # a new Pico: MicroPython formatted its empty drive at boot


def test_mpremote_fs_cp_ls_cat(chip: EmulatedPico, tmp_path: Path) -> None:
    # 6 KB of every byte value through raw-paste: a byte lost at the CDC FIFO fails here
    blob = bytes(range(256)) * 24
    (tmp_path / "blob.bin").write_bytes(blob)
    chip.mpremote("fs", "cp", str(tmp_path / "blob.bin"), ":blob.bin")
    assert "blob.bin" in chip.mpremote("fs", "ls")
    out = chip.exec(SHA256_OF_BLOB)
    assert hashlib.sha256(blob).hexdigest() in out
    assert chip.files()["blob.bin"] == blob  # written through to the drive image on disk
    chip.mpremote("fs", "rm", ":blob.bin")


def test_cuenode_flash_detects_a_pico_and_installs_the_firmware(chip: EmulatedPico) -> None:
    boots = chip.boots
    done = cuenode(chip, "flash", "--name", NAME)
    assert done.returncode == 0, done.stderr + done.stdout
    assert " pico " in done.stdout  # board detected from sys.implementation
    assert chip.boots == boots + 1  # flash ends with a reset: the runner restarted the chip
    on_drive = chip.files()
    staged = firmware_files(NAME)
    assert {k: on_drive[k] for k in staged} == staged  # cuefw as armv6m .mpy, node.id, ...
    assert any(k.startswith("cuefw/") and k.endswith(".mpy") for k in on_drive)


def test_push_go_status_over_the_stdin_link(chip: EmulatedPico) -> None:
    # The link on rp2 reads sys.stdin.buffer: on the text stream a 0xDB byte killed main.py.
    pushed = cuenode(chip, "push", str(SHOW))
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    assert "verified" in pushed.stdout
    went = cuenode(chip, "go")
    assert went.returncode == 0, went.stderr + went.stdout
    assert "GO: cue 1" in went.stdout
    status = cuenode(chip, "status")
    assert status.returncode == 0, status.stderr + status.stdout
    assert "cue 1" in status.stdout and "Pico check" in status.stdout
    # the viper loops passed their start-up self-check as armv6m Thumb code on the M0+
    assert "loops: frame native, GO native" in status.stdout, status.stdout


def test_dmx_pin_capture_decodes_with_sigrok(chip: EmulatedPico, tmp_path: Path) -> None:
    need_sigrok()
    trace = chip.record([DMX_TX_GPIO], 1.0)[DMX_TX_GPIO]
    paths = write_pin_capture(trace, tmp_path / NAME, NAME)
    packets = whole_packets(sigrok_packets(paths[0]))
    assert len(packets) >= 40
    for p in packets:
        assert p["break_us"] >= 92 and p["mab_us"] >= 12
        assert len(p["bytes"]) == 513 and p["bytes"][0] == 0
        assert {slot: p["bytes"][slot] for slot in CUE1} == CUE1
    chip.capture_seconds = trace.seconds  # type: ignore[attr-defined]
    chip.packets = sigrok_packets(paths[0])  # type: ignore[attr-defined]


def test_at_least_43_packets_per_simulated_second(chip: EmulatedPico) -> None:
    packets = getattr(chip, "packets", None)
    assert packets, "needs test_dmx_pin_capture_decodes_with_sigrok first"
    breaks = [p["at_us"] for p in packets]
    rate = (len(breaks) - 1) / ((breaks[-1] - breaks[0]) / 1e6)
    assert rate >= 43.0, f"{rate:.2f} packets per simulated second"


def test_mpremote_reset_restarts_the_chip_with_its_drive(chip: EmulatedPico) -> None:
    boots = chip.boots
    chip.mpremote("reset")
    chip.node.wait_boot(boots + 1, timeout=60)
    chip.until_sim(BOOTED_S)
    status = cuenode(chip, "status")  # the show pushed earlier survived the reset
    assert status.returncode == 0 and "Pico check" in status.stdout, status.stdout
