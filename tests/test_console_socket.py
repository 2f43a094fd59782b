"""Other `cuenode` commands during a show (issue 12): while `cuenode console` holds the ports,
`status`, `goto`, `push`, `nodes`, `log --follow` and `status --watch` reach the nodes through
its local socket; without a console they open the ports themselves. The nodes come from a rig
file in the working directory. Two emulated nodes in virtual time: the test advances their
clocks and waits for lines in the commands' output (order of events, no timing)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, plan_nodes
from test_console_cli import Log

REPO = Path(__file__).resolve().parent.parent
SHOW = REPO / "tests" / "data" / "console_show.yaml"
CUENODE = str(Path(sys.executable).parent / "cuenode")
pytestmark = pytest.mark.slow


def step(nodes, ms: int) -> None:
    for _ in range(ms):
        for node in nodes:
            node.advance(ms=1)


def level(node) -> int:
    frame = node.io.request_frame()
    return frame.slots[0] if frame is not None else -1


def cuenode(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CUENODE, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def start(cwd: Path, *args: str) -> tuple[subprocess.Popen, Log]:
    proc = subprocess.Popen(
        [CUENODE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return proc, Log(proc)


def interrupt(proc: subprocess.Popen) -> int:
    """Ctrl-C, as at a terminal: the command must end cleanly (status 0, no traceback)."""
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=20)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """Two nodes, a rig file naming them by their stable ports, the show beside it."""
    work = tmp_path_factory.mktemp("stage")
    with Fleet(work / "emu") as fleet:
        nodes = [fleet.add(plan, virtual=True) for plan in plan_nodes(2, compile_file(SHOW))]
        fleet.start()
        step(nodes, 300)
        for node in nodes:
            node.io.subscribe(dmx=True)
        lines = ['show = "show.yaml"']
        for node in nodes:
            lines += [f"[nodes.{node.config.node_id}]", f'port = "{node.link_path}"']
        (work / "cuenode-rig.toml").write_text("\n".join(lines) + "\n")
        (work / "show.yaml").write_text(SHOW.read_text())
        yield work, nodes


def test_commands_reach_the_nodes_through_the_console_and_a_push_keeps_the_cue(rig, tmp_path):
    work, nodes = rig
    names = [n.config.node_id for n in nodes]
    console, log = start(work, "console", "--headless", "--no-osc")
    try:
        log.wait("local socket:")
        for name in names:
            log.wait(rf"{name}: connected")

        # status through the console (the ports are held: opening them would be "port busy")
        status = cuenode(work, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert sorted(e["node"] for e in json.loads(status.stdout)) == sorted(names)

        # goto through the console on node 1: the console brings node 2 along
        mark = len(log.lines)
        goto = cuenode(work, "goto", "4", "--node", names[0])
        assert goto.returncode == 0, goto.stderr
        log.wait(rf"{names[1]}: cue 4 ok", after=mark)
        step(nodes, 30)
        assert [level(n) for n in nodes] == [40, 40]

        # mid-show push of an edited show: each node stands by at cue 5, GO runs the new 5
        (work / "show.yaml").write_text(
            SHOW.read_text().replace("{front.dimmer: 50}", "{front.dimmer: 55}")
        )
        # the rig file's show to the rig file's nodes (one part for both: --force)
        push = cuenode(work, "push", "--force")
        assert push.returncode == 0, push.stderr
        for name in names:
            assert f"node '{name}'" in push.stdout
        assert push.stdout.count("standing by at cue 5 as before") == 2, push.stdout

        # nodes: one table, reached through the console
        listed = json.loads(cuenode(work, "nodes", "--json").stdout)
        assert sorted(e["rig_name"] for e in listed if e["ok"] and e["via_console"]) == names

        # log --follow through the console, then a GO from the console's own socket user
        follower, flog = start(work, "log", "--follow", "--node", names[1])
        flog.wait("show-loaded")  # the history came first
        step(nodes, 400)
        mark = len(log.lines)
        go = cuenode(work, "go", "--node", names[0])
        assert go.returncode == 0, go.stderr
        log.wait(rf"{names[1]}: cue 5 ok", after=mark)
        step(nodes, 30)
        flog.wait(r"goto: cue 5")
        assert [level(n) for n in nodes] == [55, 55]
        assert interrupt(follower) == 0
        assert not any("Traceback" in x for x in flog.lines)

        watch = cuenode(work, "status", "--watch", "--count", "2", "--interval", "0.1")
        assert watch.returncode == 0, watch.stderr
        assert watch.stdout.count("NODE") == 2 and watch.stdout.count(" 5 ") >= 2, watch.stdout
    finally:
        console.terminate()
        console.wait(timeout=20)
    assert not (work / ".cuenode" / "console.sock").exists()


def test_without_a_console_follow_and_watch_open_the_ports_themselves(rig):
    work, nodes = rig
    follower, flog = start(work, "log", "--follow", "--json", "--node", nodes[0].config.node_id)
    flog.wait("show-loaded")
    step(nodes, 400)
    nodes[0].press("B1")
    step(nodes, 40)
    nodes[0].release("B1")
    line = json.loads(flog.lines[flog.wait(r'"text": "go: cue')])
    assert line["node"] == nodes[0].config.node_id
    assert interrupt(follower) == 0

    watcher, wlog = start(work, "status", "--watch", "--interval", "0.2")
    wlog.wait("NODE")
    wlog.wait(nodes[1].config.node_id)
    assert interrupt(watcher) == 0
    assert not any("Traceback" in x for x in wlog.lines)
