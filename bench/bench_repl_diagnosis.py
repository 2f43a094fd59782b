#!/usr/bin/env python3
"""How often is a node at the MicroPython REPL diagnosed as such (not "no cuenode firmware")?

One emulated node running a show is dropped to the REPL; then, per REPL mode (friendly, raw,
raw-paste), TRIES times: put the REPL in that mode, `ops.connect`, check the error names the
REPL and `cuenode reset`. Bar (issue 11): 0 wrong diagnoses over >= 100 tries per mode.

    .venv/bin/python bench/bench_repl_diagnosis.py [--tries 100] [--runtime cpython]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cuenode.build.compile import compile_file  # noqa: E402
from cuenode.emulator.fleet import Fleet, NodePlan  # noqa: E402
from cuenode.errors import CuenodeError  # noqa: E402
from cuenode.node import ops  # noqa: E402
from cuenode.paths import EXAMPLES_DIR  # noqa: E402
from repl_states import REPL_STATES, enter_state, take_port  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=100)
    ap.add_argument("--runtime", default="cpython")
    args = ap.parse_args()
    demo = compile_file(Path(EXAMPLES_DIR) / "demo.yaml")["stage"]
    with tempfile.TemporaryDirectory() as tmp, Fleet(Path(tmp), runtime=args.runtime) as fl:
        node = fl.add(NodePlan("stage", demo))
        fl.start()
        take_port(node.tty)
        for state in REPL_STATES:
            wrong, t0 = 0, time.monotonic()
            for _ in range(args.tries):
                enter_state(node.tty, state)
                try:
                    ops.connect(node.tty).close()
                    wrong += 1
                except CuenodeError as exc:
                    text = exc.format_message()
                    wrong += "at the MicroPython REPL" not in text or "cuenode reset" not in text
            per = (time.monotonic() - t0) / args.tries
            print(f"{args.runtime} {state:<9}: {wrong} wrong of {args.tries} ({per:.2f} s a try)")


if __name__ == "__main__":
    main()
