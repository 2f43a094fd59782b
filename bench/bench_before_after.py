#!/usr/bin/env python3
"""Before/after: the same user-facing figures from two versions of the host package, measured
in one run, interleaved (before, after, before, after...) so machine load hits both alike.

    .venv/bin/python bench/bench_before_after.py [--before eaf9df0] [--runs 5] [--json]

`before` is a git revision, unpacked with `git archive` into a temporary directory; `after` is
this working tree. Each figure is the wall time of the real `cuenode` command line in a fresh
interpreter (PYTHONPATH = that tree's host/ and firmware/, so start-up and imports count, as
for a user):
- compile: `cuenode compile` of the generated 1,000-cue, 4-node show (bench/bench_compile.py)
  and of examples/theatre.yaml;
- push: `cuenode push examples/theatre.yaml --port TTY --node sl --force` to one
  emulated node (started once, from this tree): compile + connect + send + verify + switch.
One unmeasured warm-up run per version first (it writes the .pyc files). Reports the median
and best of --runs per version, and after/before of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_compile import generate_show_yaml  # noqa: E402

RUN_CLI = "import sys; from cuenode.cli import main; sys.argv[0] = 'cuenode'; main()"


def unpack(rev: str, dest: Path) -> Path:
    """The tree of `rev` under dest (git archive: no worktree bookkeeping left behind)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
    ).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def cli_seconds(tree: Path, args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=f"{tree / 'host'}{os.pathsep}{tree / 'firmware'}")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{tree}: cuenode {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return seconds


def measure(trees: dict[str, Path], cases: dict[str, list[str]], runs: int) -> dict:
    times: dict[str, dict[str, list[float]]] = {c: {t: [] for t in trees} for c in cases}
    for args in cases.values():  # warm-up, not counted: writes each tree's .pyc files
        for tree in trees.values():
            cli_seconds(tree, args)
    for _ in range(runs):
        for case, args in cases.items():
            for name, tree in trees.items():
                times[case][name].append(cli_seconds(tree, args))
    return {
        case: {
            **{
                name: {"median_s": statistics.median(v), "best_s": min(v)}
                for name, v in by_tree.items()
            },
            "ratio": statistics.median(by_tree["after"]) / statistics.median(by_tree["before"]),
        }
        for case, by_tree in times.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="eaf9df0", help="git revision to compare against")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    from cuenode.emulator.fleet import Fleet, NodePlan

    with tempfile.TemporaryDirectory(prefix="cuenode-ba-") as tmp:
        work = Path(tmp)
        trees = {"before": unpack(opts.before, work / "before"), "after": ROOT}
        big = work / "bench-1000.yaml"
        big.write_text(generate_show_yaml(1000, 4))
        theatre = str(ROOT / "examples" / "theatre.yaml")
        with Fleet(work / "emu") as fleet:
            node = fleet.add(NodePlan("sl", None))
            fleet.start()
            cases = {
                "compile 1,000 cues x 4 nodes": ["compile", str(big), "-o", str(work / "o")],
                "compile theatre.yaml": ["compile", theatre, "-o", str(work / "o")],
                "push theatre.yaml (1 node)": [
                    "push",
                    theatre,
                    "--port",
                    node.tty,
                    "--node",
                    "sl",
                    "--force",
                ],  # fmt: skip
            }
            result = measure(trees, cases, opts.runs)
    meta = {"before": opts.before, "runs": opts.runs, "python": platform.python_version()}
    if opts.json:
        print(json.dumps({"meta": meta, "figures": result}, indent=2))
        return 0
    print(f"before = {opts.before}, after = this tree; median (best) of {opts.runs} runs each")
    for case, r in result.items():
        b, a = r["before"], r["after"]
        print(
            f"{case:<30} before {b['median_s']:.3f} s ({b['best_s']:.3f})  "
            f"after {a['median_s']:.3f} s ({a['best_s']:.3f})  after/before {r['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
