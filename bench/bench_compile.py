#!/usr/bin/env python3
"""Benchmark: validate + compile a generated 1,000-cue / 512-channel / 4-node show.

The show is written as YAML text to a temporary file, so the figure includes YAML parsing,
validation and compiling, exactly what `cuenode compile` does. Every node's universe is full
(512 of 512 slots patched: moving spots and washes with 16-bit pan/tilt, RGBW pars, dimmers).
Each cue moves a few fixtures (about 25 levels); every 25th cue is a full "state" cue that sets
every dimmer on every node; every 10th cue follows on, every 20th fires a fog pulse.

    .venv/bin/python bench/bench_compile.py [--cues N] [--nodes N] [--json]

Reports wall time (best of --repeat runs, without tracing), then one run under tracemalloc for
the peak Python heap, and the process's ru_maxrss. Goal (issue 2): < 2 s and < 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from cuenode.build import compiler
from cuenode.show import yaml as yaml_loader
from cuenode.show.load import load_show

GOAL_S = 2.0
GOAL_MB = 200.0

FIXTURE_TYPES = """\
fixture_types:
  dimmer:
    channels: {dimmer: 1}
  rgbw_par:
    channels: {dimmer: 1, red: 2, green: 3, blue: 4, white: 5, strobe: 6}
  spot:
    channels: {pan: [1, 2], tilt: [3, 4], speed: 5, dimmer: 6, shutter: 7, color: 8,
               gobo: 9, gobo_rotate: 10, focus: 11, prism: 12}
    defaults: {pan: 50%, tilt: 50%, shutter: 255}
  wash:
    channels: {pan: [1, 2], tilt: [3, 4], dimmer: 5, shutter: 6, red: 7, green: 8, blue: 9,
               white: 10, zoom: 11}
    defaults: {pan: 50%, tilt: 50%, shutter: 255}
"""
# (type, channels, how many per node): 10*12 + 12*11 + 40*6 + 20*1 = 512 slots per node
RIG = (("spot", 12, 10), ("wash", 11, 12), ("rgbw_par", 6, 40), ("dimmer", 1, 20))
PARAMS = {
    "dimmer": ("dimmer",),
    "rgbw_par": ("dimmer", "red", "green", "blue", "white", "strobe"),
    "spot": ("pan", "tilt", "speed", "dimmer", "shutter", "color", "gobo", "focus", "prism"),
    "wash": ("pan", "tilt", "dimmer", "red", "green", "blue", "white", "zoom"),
}
WIDE = ("pan", "tilt")


def patch(n_nodes: int) -> dict[str, list[tuple[str, str, int]]]:
    """node id -> [(fixture name, type, address)] filling all 512 slots of each universe."""
    rig = {}
    for n in range(1, n_nodes + 1):
        address, fixtures = 1, []
        for ftype, width, count in RIG:
            for k in range(1, count + 1):
                fixtures.append((f"n{n}_{ftype}{k}", ftype, address))
                address += width
        assert address == 513
        rig[f"node{n}"] = fixtures
    return rig


def node_yaml(node_id: str, fixtures: list[tuple[str, str, int]]) -> list[str]:
    names = ", ".join(name for name, _, _ in fixtures)
    return [
        f"  {node_id}:",
        "    board: pico",
        f"    fixtures: [{names}]",
        "    on_fault: hold",
        "    go_protect: 500ms",
        "    stop_fade: 3s",
        "    relays:",
        f"      {node_id}_fog: {{pin: R1, max_on: 10s, min_off: 20s, requires_arm: true, "
        "hazard: true}",
        f"      {node_id}_haze: {{pin: R2, duty: 30%, duty_window: 60s}}",
        "    buttons: {B1: go, B2: back, B3: stop, B4: fire 1, B5: fire 100, B6: fire 500}",
    ]


def level(rnd: random.Random, param: str) -> str:
    if param in WIDE:
        return str(rnd.randrange(65536))
    return rnd.choice([f"{rnd.randrange(101)}%", str(rnd.randrange(256)), "0", "100%"])


def cue_yaml(i: int, last: bool, rnd: random.Random, rig: dict, all_fixtures: list) -> list[str]:
    lines = [f"  - cue: {i}", f"    label: Cue {i} scene {rnd.randrange(1000)}"]
    lines.append(f"    time: {rnd.choice(['0s', '1s', '2.5s', '5s', '10s'])}")
    if i % 10 == 0 and not last:  # the last cue must wait for GO
        lines.append("    follow: 3s")
    if i % 7 == 0:
        lines.append("    curve: s-curve")
    lines.append("    levels:")
    if i % 25 == 1:  # a full state: every dimmer on every node
        for name, _, _ in all_fixtures:
            lines.append(f"      {name}.dimmer: {rnd.randrange(101)}%")
    else:
        for name, ftype, _ in rnd.sample(all_fixtures, 8):
            for param in rnd.sample(PARAMS[ftype], min(3, len(PARAMS[ftype]))):
                lines.append(f"      {name}.{param}: {level(rnd, param)}")
    if i % 20 == 0:
        node = rnd.choice(sorted(rig))
        lines += ["    relays:", f"      {node}_fog: pulse 3s"]
    return lines


def generate_show_yaml(n_cues: int, n_nodes: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    rig = patch(n_nodes)
    all_fixtures = [f for node in sorted(rig) for f in rig[node]]
    lines = ["show:", f"  name: Bench {n_cues} cues", "  version: 1", ""]
    lines += FIXTURE_TYPES.splitlines() + ["", "fixtures:"]
    lines += [f"  {name}: {{type: {t}, address: {a}}}" for name, t, a in all_fixtures]
    lines += ["", "nodes:"]
    for node_id in sorted(rig):
        lines += node_yaml(node_id, rig[node_id])
    lines += ["", "cues:"]
    for i in range(1, n_cues + 1):
        lines += cue_yaml(i, i == n_cues, rnd, rig, all_fixtures)
    return "\n".join(lines) + "\n"


def validate_and_compile(path: Path) -> tuple[dict[str, bytes], float, float, float]:
    """(compiled files, load+validate wall s, compile wall s, total CPU s of this process)"""
    c0 = time.process_time()
    t0 = time.perf_counter()
    show, problems = load_show(path)
    t1 = time.perf_counter()
    if problems or show is None:
        sys.exit("bench show is invalid:\n" + "\n".join(map(str, problems[:20])))
    blobs = compiler.compile_show(show)
    return blobs, t1 - t0, time.perf_counter() - t1, time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cues", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--pure-python-yaml",
        action="store_true",
        help="parse with ruamel's pure-Python parser instead of libyaml (for comparison)",
    )
    args = ap.parse_args()
    if args.pure_python_yaml:
        yaml_loader._yaml = yaml_loader.pure_python_yaml

    text = generate_show_yaml(args.cues, args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        runs = [validate_and_compile(path) for _ in range(args.repeat)]
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before tracing
        tracemalloc.start()
        validate_and_compile(path)
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    blobs, load_s, compile_s, _ = min(runs, key=lambda r: r[1] + r[2])
    cpu_s = min(r[3] for r in runs)
    assert all(r[0] == blobs for r in runs), "compile output differs between runs"
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": round(os.getloadavg()[0], 2),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "yaml_loader": "pure Python" if args.pure_python_yaml else "libyaml (C)",
        "cues": args.cues,
        "nodes": args.nodes,
        "yaml_lines": text.count("\n"),
        "yaml_bytes": len(text.encode()),
        "load_validate_s": round(load_s, 3),
        "compile_s": round(compile_s, 3),
        "total_s": round(load_s + compile_s, 3),
        "cpu_s": round(cpu_s, 3),  # the machine is shared: CPU time shows what wall time hides
        "tracemalloc_peak_mb": round(peak_mb, 1),
        "ru_maxrss_mb": round(maxrss_mb, 1),
        "node_bytes": {k: len(v) for k, v in blobs.items()},
    }
    ok = result["total_s"] < GOAL_S and result["ru_maxrss_mb"] < GOAL_MB
    result["goal"] = f"< {GOAL_S} s and < {GOAL_MB:.0f} MB: {'met' if ok else 'NOT met'}"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
