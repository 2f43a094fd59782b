#!/usr/bin/env python3
"""The console's real-time GO fan-out: a button on node A, how long until every other node
has run the cue? (Wall clock; the tests hold the bar in virtual time, docs/console.md.)

Starts N real-time emulated nodes (console_show: snap cues, GO protection 300 ms) and a
`Console` holding all of them, presses node A's GO button M times and records, per press:
  press -> event   the button press until the console has node A's event frame (node
                   debounce + GO + the event frame on the link + the worker's read)
  event -> sent    the console's decision: event in until its GOTO is written to node B
                   (dispatcher + worker queue)
  event -> done    event in until every other node has answered its GOTO (the cue runs
                   there on the request; its answer comes back over the link)

    .venv/bin/python bench/bench_console_fanout.py [--nodes 3] [--presses 30]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.console import links
from cuenode.console.console import Console
from cuenode.emulator.fleet import Fleet, plan_nodes

SHOW = Path(__file__).resolve().parents[1] / "tests" / "data" / "console_show.yaml"


class Clocked:
    """The console's log lines with the wall time they were said at, and the time each
    worker wrote each command."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self.sent: list[tuple[float, str, int]] = []
        self.cond = threading.Condition()

    def say(self, line: str) -> None:
        with self.cond:
            self.lines.append((time.perf_counter(), line))
            self.cond.notify_all()

    def wait(self, pattern: str, after: int, timeout: float = 10.0) -> float:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines[after:]:
                    if rx.search(line):
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{pattern} not in: {[x for _, x in self.lines[-8:]]}")
                self.cond.wait(left)


def instrument(clock: Clocked) -> None:
    """Time each command as a worker starts running it (just before it is written)."""
    run = links.NodeWorker._run

    def timed(self, command):
        clock.sent.append((time.perf_counter(), self.node, command.cue))
        return run(self, command)

    links.NodeWorker._run = timed


def press_once(console, clock, a, others, cue_ms: int) -> tuple[float, float, float]:
    mark = len(clock.lines)
    sent_mark = len(clock.sent)
    t_press = time.perf_counter()
    a.press("B1")
    t_event = clock.wait(rf"{a.node_id}: go: cue {cue_ms // 1000}\b", mark)
    t_done = max(clock.wait(rf"{n.node_id}: cue {cue_ms // 1000} ok", mark) for n in others)
    a.release("B1")
    sent = [t for t, node, cue in clock.sent[sent_mark:] if cue == cue_ms]
    return t_event - t_press, min(sent) - t_event, t_done - t_event


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--presses", type=int, default=30)
    args = ap.parse_args()
    clock = Clocked()
    instrument(clock)
    with tempfile.TemporaryDirectory() as tmp, Fleet(Path(tmp)) as fl:
        nodes = [fl.add(p) for p in plan_nodes(args.nodes, compile_file(SHOW))]
        fl.start()
        targets = [(n.node_id, n.tty) for n in nodes]
        with Console(targets, say=clock.say) as console:
            for n in nodes:
                clock.wait(rf"{n.node_id}: connected", 0)
            time.sleep(0.5)  # the first status rounds
            a, others = nodes[0], nodes[1:]
            rows = []
            for _ in range(args.presses):
                if console.rig.next_cue() < 0:  # the end of the list: back to cue 1
                    console.goto("1").wait()
                    time.sleep(0.45)
                rows.append(press_once(console, clock, a, others, console.rig.next_cue()))
                time.sleep(0.45)  # past GO protection (300 ms)
    for name, i in (("press -> event", 0), ("event -> sent", 1), ("event -> done", 2)):
        col = [r[i] for r in rows]
        print(
            f"{name:15s} median {statistics.median(col) * 1000:6.1f} ms  "
            f"p99 {pct(col, 0.99):6.1f} ms  max {max(col) * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
