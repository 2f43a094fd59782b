"""Link benchmark: push throughput of a 256 KB compiled show to an emulated node, compared with
`mpremote cp` of the same file to the same node in the same run, and status round-trip time.

    .venv/bin/python bench/bench_link.py [--size 262144] [--runs 3] [--status 300] [--json]

The node is a real emulated node (`firmware/main.py` in its own process on a pty, CPython
runtime, unpaced serial like native USB CDC). Push time is measured from PUSH_BEGIN to the
verified commit (the HELLO before it is not counted), with the default raw-deflate transfer
and again uncompressed; throughput is show bytes per second either way. mpremote is timed as
a whole process and also with the time of an `mpremote exec pass` subtracted (its start-up
and connection), and the ratios use the latter, which favours mpremote.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cuefw import link
from cuenode.build import showbin
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import ops

BIN = Path(sys.executable).parent


def make_show(node_id: str, size: int, variant: int) -> bytes:
    """A real compiled show of about `size` bytes (128 parameters, as many cues as needed)."""
    n_params = 128
    per_cue = 32 + 4 * n_params + 16
    n_cues = max(1, size // per_cue)
    cues = tuple(
        showbin.CueRec(
            number=(i + 1) * 1000,
            label=f"cue {i + 1}",
            up_ms=1000,
            changes=tuple((p, (i * 7 + p + variant) % 256) for p in range(n_params)),
        )
        for i in range(n_cues)
    )
    show = showbin.NodeShow(
        node_id=node_id,
        show_name=f"bench {variant}",
        params=tuple((p + 1, 0) for p in range(n_params)),
        base_look=(0,) * n_params,
        cues=cues,
    )
    return showbin.encode(show)


def bench_push(port: str, blobs: list[bytes], runs: int, compress: bool) -> tuple[list, int]:
    """(show bytes per second of each push, bytes on the wire of the last one)."""
    rates, wire = [], 0
    with ops.connect(port) as s:
        for k in range(runs):
            result = ops.push(s, blobs[k % 2], "bench", compress=compress)
            rates.append(result.size / result.seconds)
            wire = result.wire_bytes
    return rates, wire


def bench_status(port: str, n: int) -> list[float]:
    times = []
    with ops.connect(port) as s:
        for _ in range(n):
            t0 = time.perf_counter()
            s.call(link.T_STATUS)
            times.append((time.perf_counter() - t0) * 1000)
    return times


def mpremote(port: str, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [str(BIN / "mpremote"), "connect", port, *args],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return time.perf_counter() - t0


def bench_mpremote(port: str, path: Path, runs: int) -> tuple[list[float], float]:
    """(seconds per cp, seconds of a no-op mpremote run) — leaves the node at the REPL."""
    idle = min(mpremote(port, "exec", "pass") for _ in range(3))
    # A new name each run: mpremote skips a copy whose destination already has the same hash.
    cps = [mpremote(port, "cp", str(path), f":bench{k}.bin") for k in range(runs)]
    return cps, idle


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256 * 1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--status", type=int, default=300)
    ap.add_argument(
        "--baud",
        type=int,
        default=0,
        help="pace the node's serial to N baud 8N1 (0: unpaced, like USB CDC)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    blobs = [make_show("bench", args.size, v) for v in (1, 2)]
    work = Path(tempfile.mkdtemp(prefix="cuenode-bench-link-"))
    show_file = work / "show.cnshow"
    show_file.write_bytes(blobs[0])
    try:
        with Fleet(work / "emu") as fleet:
            node = fleet.add(NodePlan("bench", None), baud=args.baud)
            fleet.start()
            rates, wire = bench_push(node.tty, blobs, args.runs, compress=True)
            plain, _ = bench_push(node.tty, blobs, args.runs, compress=False)
            rtts = bench_status(node.tty, args.status)
            cps, idle = bench_mpremote(node.tty, show_file, args.runs)
            copied = all(
                (node.flash_dir / f"bench{k}.bin").read_bytes() == blobs[0]
                for k in range(args.runs)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = len(blobs[0])
    push_bps = statistics.median(rates)
    cp_s = statistics.median(cps)
    cp_bps_raw = size / cp_s
    cp_bps = size / max(1e-9, cp_s - idle)
    out = {
        "baud": args.baud or "unpaced",
        "show_bytes": size,
        "push_bytes_per_s": round(push_bps),
        "push_runs_bytes_per_s": [round(r) for r in rates],
        "push_wire_bytes": wire,
        "push_uncompressed_bytes_per_s": round(statistics.median(plain)),
        "mpremote_cp_s": round(cp_s, 3),
        "mpremote_idle_s": round(idle, 3),
        "mpremote_cp_bytes_per_s_whole": round(cp_bps_raw),
        "mpremote_cp_bytes_per_s_net": round(cp_bps),
        "mpremote_copy_verified": copied,
        "ratio_push_to_mpremote_net": round(push_bps / cp_bps, 1),
        "ratio_uncompressed_push_to_mpremote_net": round(statistics.median(plain) / cp_bps, 1),
        "status_rtt_ms_p50": round(pct(rtts, 0.5), 2),
        "status_rtt_ms_p99": round(pct(rtts, 0.99), 2),
        "status_samples": len(rtts),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key, value in out.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
