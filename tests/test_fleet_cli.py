"""`cuenode push|go|status|log` as a user types them (subprocess, the installed entry point)
against emulated nodes found by discovery (--node / --all), not only by --port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan

REPO = Path(__file__).resolve().parent.parent
CUENODE = str(Path(sys.executable).parent / "cuenode")
pytestmark = pytest.mark.slow


def cuenode(fleet: Fleet, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CUENODE_NODES_DIR=str(fleet.sup.workdir / "nodes"))
    return subprocess.run(
        [CUENODE, *args], capture_output=True, text=True, timeout=60, env=env, cwd=REPO
    )


def assert_one_line_error(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def fleet(tmp_path):
    with Fleet(tmp_path / "emu") as f:
        yield f


def test_push_yaml_by_node_id_and_all_through_the_cli(fleet):
    """Regression: `push show.yaml --node/--all` once crashed in compiler.select_nodes
    (AttributeError: 'tuple' object has no attribute 'nodes')."""
    demo = compile_file(REPO / "examples" / "demo.yaml")["stage"]
    fleet.add(NodePlan("stage", None))
    fleet.start()
    yaml = str(REPO / "examples" / "demo.yaml")
    by_id = cuenode(fleet, "push", yaml, "--node", "stage")
    assert by_id.returncode == 0, by_id.stderr
    assert "pushed" in by_id.stdout and "verified" in by_id.stdout
    again = cuenode(fleet, "push", yaml, "--all")
    assert again.returncode == 0, again.stderr
    assert "already running this show" in again.stdout
    status = cuenode(fleet, "status", "--node", "stage", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["node"] == "stage"
    hello = cuenode(fleet, "go", "--all")
    assert hello.returncode == 0 and "GO: cue 1, next 2" in hello.stdout, hello.stderr
    assert (fleet.node("stage").flash_dir / "show.bin").read_bytes() == demo


def test_cli_errors_are_one_line_exit_1(fleet, tmp_path):
    fleet.add(NodePlan("stage", compile_file(REPO / "examples" / "demo.yaml")["stage"]))
    fleet.start()
    theatre = str(REPO / "examples" / "theatre.yaml")
    assert_one_line_error(cuenode(fleet, "push", theatre, "--all"))  # no part for 'stage'
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a show")
    assert_one_line_error(cuenode(fleet, "push", str(junk), "--all"))
    assert_one_line_error(cuenode(fleet, "go", "--node", "nobody"))
    assert_one_line_error(cuenode(fleet, "goto", "99", "--all"))
    assert_one_line_error(cuenode(fleet, "back", "--all"))  # nothing before the first cue
    assert "end-of-list" in cuenode(fleet, "back", "--all").stderr
    assert_one_line_error(cuenode(fleet, "status", "--port", str(tmp_path / "no-such-port")))
    log = cuenode(fleet, "log", "--all")
    assert log.returncode == 0 and "back-refused" in log.stdout
    first = log.stdout.splitlines()[0].split()
    assert first[2] == "boot:", log.stdout  # "<node> <s.ms> boot: ...": no repeated tick


def test_hello_and_push_at_one_percent_status_at_point_four_percent_corruption(fleet):
    """Every byte of the serial line (both directions) may get a flipped bit: a damaged frame
    is asked for again at once, silence after a short resend time, and the push falls back to
    small chunks. At 1 %: 20 connects (HELLO, 219-byte answer) in a row and a push succeed.
    STATUS answers 469 bytes, which arrive whole only ~1 % of the time at 1 % corruption (not
    reliable yet, see docs/fleet.md); at 0.4 % (the rate first reported) 20 in a row succeed.
    Flips into Ctrl-A..D are spared: a noise byte that becomes Ctrl-C stops the firmware (a
    known limit, docs/fleet.md), which is not what this test is about."""
    from cuenode.node import ops

    demo = compile_file(REPO / "examples" / "demo.yaml")["stage"]
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    node.corrupt(0.01, seed=1, spare_repl_keys=True)
    for _ in range(20):
        with ops.connect(node.tty) as s:
            assert s.info.node_id == "stage"
    with ops.connect(node.tty) as s:
        result = ops.push(s, demo, "stage", force_switch=True)
    assert result.switched
    assert node.corrupted > 100  # the line really was noisy
    node.corrupt(0.004, seed=2, spare_repl_keys=True)
    with ops.connect(node.tty) as s:
        for _ in range(20):
            assert ops.status(s)["node"] == "stage"
    node.corrupt(0.0)
    assert (node.flash_dir / "show.bin").read_bytes() == demo
    with ops.connect(node.tty) as s:
        assert s.info.show_hash == demo[-32:].hex()
