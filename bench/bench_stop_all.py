#!/usr/bin/env python3
"""STOP --all with one node stuck at the REPL: when does STOP reach each healthy node?

Starts N real-time emulated nodes, drops the first to the MicroPython REPL (what mpremote
sends), then runs STOP on all of them the way `cuenode stop --all` does
(cuenode.node.fleet.run) and records, per node, when its STOP answer arrived (or when it was
given up), relative to the start. Bar (issue 11): every healthy node within 100 ms of the
first healthy one.

    .venv/bin/python bench/bench_stop_all.py [--nodes 4] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cuenode.emulator.fleet import Fleet, NodePlan  # noqa: E402
from cuenode.node import fleet, ops  # noqa: E402
from cuenode.node.select import Target  # noqa: E402
from repl_states import take_port  # noqa: E402


def one_run(nodes: list) -> tuple[float, float, float]:
    take_port(nodes[0].tty)
    done: dict[str, float] = {}
    t0 = time.monotonic()
    fleet.run(
        [Target(n.tty, n.node_id) for n in nodes],
        ops.stop,
        on_done=lambda o: done.setdefault(o.node, time.monotonic() - t0),
    )
    healthy = [done[n.node_id] for n in nodes[1:]]
    return min(healthy), max(healthy), done[nodes[0].node_id]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Fleet(Path(tmp)) as fl:
        nodes = [fl.add(NodePlan(f"n{k}", None)) for k in range(args.nodes)]
        fl.start()
        spreads = []
        for run in range(args.runs):
            first, last, stuck = one_run(nodes)
            spreads.append(last - first)
            print(
                f"run {run + 1}: healthy STOP done {first * 1000:.0f}-{last * 1000:.0f} ms "
                f"(spread {(last - first) * 1000:.0f} ms); stuck node given up at "
                f"{stuck * 1000:.0f} ms"
            )
            nodes[0].power_cut()  # bring the stuck node back for the next run
            nodes[0].world(timeout=20).close()
    print(f"worst spread over {args.runs} runs: {max(spreads) * 1000:.0f} ms (bar: 100 ms)")


if __name__ == "__main__":
    main()
