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
One unmeasured warm-up run per version first (it writes the .pyc files). Reports, per version,
the median wall time (and its best) and the median CPU time (user + system of the command's
process: what load on a shared machine disturbs least), and after/before of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_seconds(tree: Path, args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one `cuenode ARGS` run of `tree`. CPU time (user + system of the
    command's process) is what load on a shared machine disturbs least."""
    env = dict(os.environ, PYTHONPATH=f"{tree / 'host'}{os.pathsep}{tree / 'firmware'}")
    c0, t0 = children_cpu_s(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args], env=env, capture_output=True, text=True
    )
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if done.returncode != 0:
        sys.exit(f"{tree}: cuenode {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return wall, cpu


Samples = dict[str, dict[str, list[tuple[float, float]]]]  # case -> tree -> [(wall, cpu)]


def measure(trees: dict[str, Path], cases: dict[str, list[str]], runs: int) -> dict:
    samples: Samples = {c: {t: [] for t in trees} for c in cases}
    for args in cases.values():  # warm-up, not counted: writes each tree's .pyc files
        for tree in trees.values():
            cli_seconds(tree, args)
    for _ in range(runs):
        for case, args in cases.items():
            for name, tree in trees.items():
                samples[case][name].append(cli_seconds(tree, args))
    return {case: summarize(by_tree) for case, by_tree in samples.items()}


def summarize(by_tree: dict[str, list[tuple[float, float]]]) -> dict:
    out: dict = {}
    for name, runs in by_tree.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        out[name] = {
            "wall_median_s": statistics.median(walls),
            "wall_best_s": min(walls),
            "cpu_median_s": statistics.median(cpus),
        }
    for kind in ("wall", "cpu"):
        key = f"{kind}_median_s"
        out[f"{kind}_ratio"] = out["after"][key] / out["before"][key]
    return out


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
    print(f"before = {opts.before}, after = this tree; medians of {opts.runs} runs each")
    head = ("wall before", "after", "ratio", "CPU before", "after", "ratio")
    print(" " * 31 + "{:>11} {:>7} {:>6}   {:>10} {:>7} {:>6}".format(*head))
    for case, r in result.items():
        b, a = r["before"], r["after"]
        print(
            f"{case:<30} {b['wall_median_s']:>10.3f}s {a['wall_median_s']:>6.3f}s "
            f"{r['wall_ratio']:>6.2f}   {b['cpu_median_s']:>9.3f}s {a['cpu_median_s']:>6.3f}s "
            f"{r['cpu_ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
