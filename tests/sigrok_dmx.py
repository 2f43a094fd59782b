"""sigrok-cli's reading of a DMX line capture (the decoding is sigrok's, not ours): shared
by the emulator's capture tests and the emulated-Pico tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SIGROK = [
    "sigrok-cli",
    "-I",
    "binary:numchannels=1:samplerate=1000000",
    "-P",
    "uart:rx=0:baudrate=250000:stop_bits=2.0",
    "-A",
    "uart",
    "--protocol-decoder-samplenum",
]
DATA = re.compile(r"^(\d+)-(\d+) uart-1: ([0-9A-F]{2})$")
BREAK = re.compile(r"^(\d+)-(\d+) uart-1: Break condition$")
START = re.compile(r"^(\d+)-(\d+) uart-1: Start bit$")
FRAME_ERROR = re.compile(r"^(\d+)-(\d+) uart-1: Frame error$")


def need_sigrok() -> None:
    if shutil.which("sigrok-cli") is None:
        # A missing decoder is a set-up step, not a reason to skip: fail with the remedy.
        pytest.fail(
            "sigrok-cli is not installed: `sudo apt-get install sigrok-cli` (dev.py "
            "test installs it when run as root)"
        )


def sigrok_packets(path: Path) -> list[dict]:
    """DMX packets as sigrok-cli decodes the capture (µs = samples at 1 MHz): where each
    break starts, its length, the mark after it, and the bytes up to the next break."""
    out = subprocess.run(
        [*SIGROK, "-i", str(path)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    packets: list[dict] = []
    last_end = -1
    for line in out.splitlines():
        if m := BREAK.match(line):
            start, end = int(m[1]), int(m[2])
            packets.append({"at_us": start, "break_us": end - start, "end": end, "mab_us": None})
            packets[-1]["bytes"] = []
        elif (m := START.match(line)) and packets and packets[-1]["mab_us"] is None:
            packets[-1]["mab_us"] = int(m[1]) - packets[-1]["end"]
        elif (m := DATA.match(line)) and packets and packets[-1]["mab_us"] is not None:
            packets[-1]["bytes"].append(int(m[3], 16))
            last_end = int(m[2])
        elif (m := FRAME_ERROR.match(line)) and packets and int(m[1]) == last_end:
            packets[-1]["bytes"].pop()  # the next break, read as a 0x00 without stop bits
    return packets


def whole_packets(packets: list[dict]) -> list[dict]:
    """Those that started and ended inside the capture (not the last, maybe cut short)."""
    return packets[:-1]
