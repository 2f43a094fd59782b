#!/usr/bin/env python3
"""Emulator benchmark: how many real-time virtual nodes this machine runs at DMX rate.

For each node count N: start N nodes (real time, the example show preloaded, one GO so the
engine fades), stream every DMX frame of every node for SECONDS over the world sockets, and
measure per node the frame rate and the frame-interval jitter |interval - 23 ms| (interval
between consecutive frame start times, as the node's own clock stamped them). A count passes
when every node keeps >= 43 frames/s and the p99 jitter over all nodes is <= 2 ms.
Also: the time to start 8 nodes (spawn -> every node answering on its world socket).

    .venv/bin/python bench/bench_emulator.py [--counts 1,4,8,16,24] [--seconds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import selectors
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.paths import EXAMPLES_DIR

FRAME_US = 23_000
MIN_FPS = 43.0
MAX_P99_JITTER_US = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def start_fleet(n: int, show: bytes, work: Path) -> tuple[Fleet, float]:
    fleet = Fleet(work)
    for k in range(n):
        fleet.add(NodePlan(f"n{k + 1:02d}", show))
    return fleet, fleet.start()


def measure(n: int, seconds: float, show: bytes) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        fleet, start_s = start_fleet(n, show, Path(tmp))
        try:
            clients = [node.world() for node in fleet.nodes]
            for node in fleet.nodes:
                node.press("B1")
            time.sleep(0.1)
            for node in fleet.nodes:
                node.release("B1")
            for io in clients:
                io.subscribe(dmx=True)
                io.frames.clear()
            collect(clients, seconds)
            result = summarize(n, seconds, clients, start_s)
            for io in clients:
                io.close()
        finally:
            fleet.stop()
    return result


def collect(clients: list, seconds: float) -> None:
    sel = selectors.DefaultSelector()
    for io in clients:
        sel.register(io.sock, selectors.EVENT_READ, io)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for key, _ in sel.select(min(left, 0.1)):
            key.data._pump(0)


def summarize(n: int, seconds: float, clients: list, start_s: float) -> dict:
    jitter: list[int] = []
    fps: list[float] = []
    for io in clients:
        frames = list(io.frames)[1:]  # the first may predate the subscription
        t = [f.t_us for f in frames]
        gaps = [b - a for a, b in zip(t, t[1:], strict=False)]
        jitter += [abs(g - FRAME_US) for g in gaps]
        span = (t[-1] - t[0]) / 1e6 if len(t) > 1 else 0
        fps.append((len(t) - 1) / span if span else 0.0)
    p99 = percentile(jitter, 99)
    return {
        "nodes": n,
        "seconds": seconds,
        "start_s": round(start_s, 3),
        "fps_min": round(min(fps), 2),
        "fps_median": round(statistics.median(fps), 2),
        "jitter_p50_us": percentile(jitter, 50),
        "jitter_p99_us": p99,
        "jitter_max_us": max(jitter) if jitter else None,
        "ok": min(fps) >= MIN_FPS and p99 <= MAX_P99_JITTER_US,
    }


def start_time(count: int, show: bytes, repeats: int = 3) -> list[float]:
    out = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            fleet, took = start_fleet(count, show, Path(tmp))
            fleet.stop()
            out.append(round(took, 3))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,4,8,12,16,20,24")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    show = compile_file(EXAMPLES_DIR / "demo.yaml")["stage"]
    starts = start_time(8, show)
    rows = []
    for n in (int(c) for c in args.counts.split(",")):
        row = measure(n, args.seconds, show)
        rows.append(row)
        if not args.json:
            print(
                f"{n:3d} nodes: fps min {row['fps_min']:5.2f} median {row['fps_median']:5.2f}"
                f"  jitter p50 {row['jitter_p50_us']:6.0f} us  p99 {row['jitter_p99_us']:6.0f} us"
                f"  max {row['jitter_max_us']:6.0f} us  {'PASS' if row['ok'] else 'FAIL'}",
                flush=True,
            )
    best = max((r["nodes"] for r in rows if r["ok"]), default=0)
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": sys.version.split()[0],
        "start_8_nodes_s": starts,
        "max_nodes_ok": best,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"start 8 nodes: {starts} s;  most nodes passing: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
