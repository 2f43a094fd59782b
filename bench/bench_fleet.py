"""Load-in figures on emulated nodes: `cuenode flash` (one node, three in parallel) and the
link on a noisy line (status round trip and a push at 0 %, 0.4 %, 1 % corrupted bytes).

Run: .venv/bin/python bench/bench_fleet.py   (figures go to docs/performance.md by hand)"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import flash, ops

REPO = Path(__file__).resolve().parent.parent


def bench_flash(workdir: Path) -> None:
    with Fleet(workdir / "flash") as fleet:
        nodes = [fleet.add(NodePlan(f"n{k}", None)) for k in range(3)]
        fleet.start()
        t0 = time.monotonic()
        one = flash.flash_node(nodes[0].tty, "solo", "emulator")
        print(f"flash 1 node: {time.monotonic() - t0:.2f} s ({one.files} files, ok={one.ok})")
        t0 = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            res = list(pool.map(lambda n: flash.flash_node(n.tty, n.node_id, "emulator"), nodes))
        ok = all(r.ok for r in res)
        print(f"flash 3 nodes in parallel: {time.monotonic() - t0:.2f} s (all ok={ok})")


def bench_noise(workdir: Path, rate: float, demo: bytes) -> None:
    with Fleet(workdir / f"noise{rate}") as fleet:
        node = fleet.add(NodePlan("stage", None))
        fleet.start()
        node.corrupt(rate, seed=7)
        fails, t0 = 0, time.monotonic()
        for _ in range(20):
            try:
                with ops.connect(node.tty) as s:
                    ops.status(s)
            except ops.CuenodeError:
                fails += 1
        per = (time.monotonic() - t0) / 20
        t0 = time.monotonic()
        try:
            with ops.connect(node.tty) as s:
                ops.push(s, demo, "stage", force_switch=True)
            push = f"{time.monotonic() - t0:.2f} s"
        except ops.CuenodeError as exc:
            push = f"FAILED ({exc.message})"
        print(
            f"corruption {rate * 100:.1f} %: connect+status {per * 1000:.0f} ms each, "
            f"{fails}/20 failed; push {len(demo)} B: {push}; {node.corrupted} bytes corrupted"
        )


def main() -> None:
    demo = compile_file(REPO / "examples" / "demo.yaml")["stage"]
    with tempfile.TemporaryDirectory() as tmp:
        bench_flash(Path(tmp))
        for rate in (0.0, 0.004, 0.01):
            bench_noise(Path(tmp), rate, demo)


if __name__ == "__main__":
    main()
