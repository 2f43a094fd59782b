#!/usr/bin/env python3
"""Benchmark: how long `cuenode validate` takes (load + validate, no compile).

Times `load_show` on the bundled examples and on a 1,000-cue show made by repeating the
theatre example's cues (renumbered 1..N), best of --repeat runs, then one run under
tracemalloc for the peak Python heap. (bench/bench_compile.py, from the compile work, measures
validate + compile of a full 512-channel, 4-node show.)

`--scale` instead validates shows of about 2.5, 5 and 10 MB, each in a fresh process (as
`cuenode validate` runs), and prints wall time, CPU time and peak RSS (the bar of issue 11:
a 10 MB show in < 5 s and < 300 MB, time linear in size).

    .venv/bin/python bench/bench_validate.py [--cues N] [--repeat N]
    .venv/bin/python bench/bench_validate.py --scale
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show

# The theatre show as it was written before groups and palettes (one level line per parameter):
# the figures in docs/performance.md are per MB of that kind of YAML. (examples/theatre.yaml
# now says the same in half the lines, so a MB of it holds about twice the show.)
FLAT_THEATRE = Path(__file__).resolve().parent.parent / "tests" / "shows" / "theatre_flat.yaml"


def long_show(cues: int, folder: Path) -> Path:
    """The (flat) theatre show with its cue list repeated to `cues` cues, numbered 1..cues."""
    text = FLAT_THEATRE.read_text().replace("../../examples/fixtures/", "fixtures/")
    head, body = text.split("\ncues:\n", 1)
    blocks = ["  - cue:" + b for b in body.split("  - cue:")[1:]]
    out = []
    for n in range(1, cues + 1):
        block = re.sub(r"^  - cue: \S+", f"  - cue: {n}", blocks[(n - 1) % len(blocks)])
        if n == cues:  # the last cue must wait for GO
            block = re.sub(r"^    (follow|hang): .*\n", "", block, flags=re.M)
        out.append(block.rstrip("\n") + "\n")
    path = folder / "long.yaml"
    path.write_text(head + "\ncues:\n" + "\n".join(out))
    (folder / "fixtures").mkdir(exist_ok=True)
    for lib in (EXAMPLES_DIR / "fixtures").glob("*.yaml"):
        (folder / "fixtures" / lib.name).write_text(lib.read_text())
    return path


def best_time(path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        show, problems = load_show(path)
        best = min(best, time.perf_counter() - start)
        if problems or show is None:
            raise SystemExit(f"{path} is not valid: {problems[0]}")
    return best


def peak_mb(path: Path) -> float:
    tracemalloc.start()
    load_show(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


CHILD = """
import json, resource, sys, time
from cuenode.show.load import load_show
wall, cpu = time.perf_counter(), time.process_time()
show, problems = load_show(sys.argv[1])
assert show is not None and not problems, problems[:1]
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scale(folder: Path) -> None:
    """Validate ~2.5, 5 and 10 MB shows, each in its own process: time and peak RSS."""
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for cues in (8_250, 16_500, 33_000):
        path = long_show(cues, folder)
        size = path.stat().st_size / 1e6
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout)
        print(
            f"{cues:6d} cues {size:5.1f} MB  wall {r['wall']:5.2f} s  cpu {r['cpu']:5.2f} s "
            f"({r['cpu'] / size:4.2f} s/MB)  peak RSS {r['rss_mb']:4.0f} MB"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cues", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale", action="store_true", help="2.5/5/10 MB shows, time and RSS")
    args = ap.parse_args()
    print(
        f"date {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"CPython {platform.python_version()}"
    )
    if args.scale:
        with tempfile.TemporaryDirectory() as tmp:
            scale(Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        shows = [
            EXAMPLES_DIR / "demo.yaml",
            EXAMPLES_DIR / "theatre.yaml",
            long_show(args.cues, Path(tmp)),
        ]
        for path in shows:
            lines = len(path.read_text().splitlines())
            seconds = best_time(path, args.repeat)
            print(
                f"{path.name:14} {lines:6d} lines  {seconds * 1000:8.1f} ms  "
                f"peak heap {peak_mb(path):6.1f} MB"
            )


if __name__ == "__main__":
    main()
