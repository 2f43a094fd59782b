#!/usr/bin/env python3
"""Benchmark: how long `cuenode validate` takes (load + validate, no compile).

Times `load_show` on the bundled examples and on a 1,000-cue show made by repeating the
theatre example's cues (renumbered 1..N), best of --repeat runs, then one run under
tracemalloc for the peak Python heap. (bench/bench_compile.py, from the compile work, measures
validate + compile of a full 512-channel, 4-node show.)

    .venv/bin/python bench/bench_validate.py [--cues N] [--repeat N]
"""

from __future__ import annotations

import argparse
import platform
import re
import tempfile
import time
import tracemalloc
from pathlib import Path

from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show


def long_show(cues: int, folder: Path) -> Path:
    """The theatre show with its cue list repeated to `cues` cues, numbered 1..cues."""
    text = (EXAMPLES_DIR / "theatre.yaml").read_text()
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cues", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"date {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"CPython {platform.python_version()}"
    )
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
