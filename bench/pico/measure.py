"""Heap and DMX frame period of the cuenode firmware on the emulated Pico (rp2040js).

Until the project's own runner lands (branch pico-runner), this drives the reference scripts
in ../shared/rp2040/tools (copied somewhere writable, `npm install` done, littlefs-python
installed). The firmware is staged as `cuenode flash` stages a pico (flash.stage_firmware:
cuefw and nodeapp as armv6m .mpy, main.py, boot.py, board.py, node.id) plus the pico node's
part of examples/theatre.yaml as show.bin.

    python bench/pico/measure.py TOOLS_DIR FIRMWARE_UF2 [heap|frames|both]

heap:   bench/pico/heap_main.py as main.py; prints the heap standing by and during each cue.
frames: the shipped main.py, standing by 4 simulated s; GPIO0 recorded with PIO synced to
        the simulated clock; packet period from break to break (a low of >= 88 us).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.node import flash
from cuenode.paths import EXAMPLES_DIR

HERE = Path(__file__).resolve().parent


def stage(work: Path, main_py: Path | None) -> Path:
    files = flash.stage_firmware(work / "stage", "pico", "sl")
    (work / "stage" / "show.bin").write_bytes(compile_file(EXAMPLES_DIR / "theatre.yaml")["sl"])
    files.append("show.bin")
    if main_py is not None:
        (work / "stage" / "main.py").write_bytes(main_py.read_bytes())
    return work / "stage", files


def image(tools: Path, work: Path, main_py: Path | None) -> Path:
    root, files = stage(work, main_py)
    img = work / "cuenode.img"
    specs = [f"{f}={root / f}" for f in files]
    subprocess.run(
        [sys.executable, str(tools / "mklittlefs.py"), str(img), *specs],
        check=True,
        capture_output=True,
    )
    return img


def heap(tools: Path, uf2: Path, work: Path) -> None:
    img = image(tools, work, HERE / "heap_main.py")
    out = subprocess.run(
        [
            "node",
            str(tools / "run.mjs"),
            str(uf2),
            str(img),
            "--sync-pio",
            "--expect",
            "HEAP done",
            "--sim-seconds",
            "40",
            "--stamp",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    for line in out.stdout.splitlines():
        if any(k in line for k in ("HEAP", "CUE", "FRAMES", "Error", "Traceback", "---")):
            print(line)


def frame_loop(tools: Path, uf2: Path, work: Path) -> None:
    img = image(tools, work, HERE / "frames_main.py")
    out = subprocess.run(
        [
            "node",
            str(tools / "run.mjs"),
            str(uf2),
            str(img),
            "--sync-pio",
            "--expect",
            "FR done",
            "--sim-seconds",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(
        "\n".join(
            line
            for line in out.stdout.splitlines()
            if line.startswith(("FR", "Trace", "  File", "---")) or "Error" in line
        )
    )


def frames(tools: Path, uf2: Path, work: Path, seconds: float = 4.0) -> None:
    img = image(tools, work, None)
    cap = work / "gpio0.bin"
    subprocess.run(
        ["node", str(tools / "gpio-to-sigrok.mjs"), str(uf2), str(img), str(seconds), str(cap)],
        check=True,
        capture_output=True,
        timeout=3600,
    )
    samples = cap.read_bytes()
    breaks, low = [], 0
    for t, level in enumerate(samples):
        if level == 0:
            low += 1
            if low == 88:
                breaks.append(t - 87)
        else:
            low = 0
    periods = sorted(
        b - a for a, b in zip(breaks[1:], breaks[2:], strict=False)
    )  # skip the first packet
    if not periods:
        print("no DMX packets")
        return
    pct = lambda q: periods[min(len(periods) - 1, int(q * len(periods)))]  # noqa: E731
    print(f"first break at {breaks[0] / 1e3:.1f} ms; {len(breaks)} packets in {seconds} s")
    print(f"period us: min {periods[0]} p50 {pct(0.5)} p99 {pct(0.99)} max {periods[-1]}")


def main() -> None:
    tools, uf2 = Path(sys.argv[1]), Path(sys.argv[2])
    what = sys.argv[3] if len(sys.argv) > 3 else "both"
    with tempfile.TemporaryDirectory() as tmp:
        if what in ("heap", "both"):
            heap(tools, uf2, Path(tmp) / "h")
        if what in ("loop", "both"):
            frame_loop(tools, uf2, Path(tmp) / "l")
        if what in ("frames", "both"):
            frames(tools, uf2, Path(tmp) / "f")


if __name__ == "__main__":
    main()
