"""`cuenode console --headless` with OSC on three emulated nodes in virtual time: the issue's
"done when" (docs/console.md). The console is the real CLI in a subprocess; OSC comes from
python-osc's real client over loopback; node clocks move only when the test advances them,
and the test reads the console's log to know it has acted (order of events, no timing)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, plan_nodes
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

REPO = Path(__file__).resolve().parent.parent
SHOW = REPO / "tests" / "data" / "console_show.yaml"
CUENODE = str(Path(sys.executable).parent / "cuenode")
FRAME_US = 23_000
pytestmark = pytest.mark.slow


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Log:
    """The console's stdout, read by a thread; wait() for a line matching a pattern."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait(self, pattern: str, after: int = 0, timeout: float = 20.0) -> int:
        """Index of the first line from `after` on that matches; fails after `timeout`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(after, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                assert left > 0, f"no line /{pattern}/ in:\n" + "\n".join(self.lines[-30:])
                self.cond.wait(left)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    shows = compile_file(SHOW)
    work = tmp_path_factory.mktemp("emu")
    with Fleet(work) as fleet:
        nodes = [fleet.add(plan, virtual=True) for plan in plan_nodes(3, shows)]
        fleet.start()
        for node in nodes:
            node.advance(ms=300)
            node.io.subscribe(dmx=True)
        port = free_udp_port()
        args = [CUENODE, "console", "--headless", "--osc-port", str(port)]
        for node in nodes:
            args += ["--port", str(node.link_path)]  # the stable link: replug moves it
        proc = subprocess.Popen(  # its local socket goes in work/.cuenode/
            args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        log = Log(proc)
        try:
            log.wait("OSC: listening")
            for node in nodes:
                log.wait(rf"{node.config.node_id}: connected")
            yield nodes, log, port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


ADVANCED: dict[int, int] = {}  # ms each node's clock has been advanced by step()


def step(nodes, ms: int) -> None:
    for _ in range(ms):
        for node in nodes:
            node.advance(ms=1)
    for node in nodes:
        ADVANCED[id(node)] = ADVANCED.get(id(node), 0) + ms


def common_us(node, t_us: int, ref) -> int:
    """A node time on `ref`'s clock (nodes advanced alone are ahead by what they got more)."""
    return t_us - (ADVANCED.get(id(node), 0) - ADVANCED.get(id(ref), 0)) * 1000


def level(node) -> int:
    frame = node.io.request_frame()
    return frame.slots[0] if frame is not None else -1


def osc(port: int, address: str) -> dict:
    client = SimpleUDPClient("127.0.0.1", port)
    client.send_message(address, [])
    reply = OscMessage(client.receive(timeout=20))
    assert reply.address == "/reply" + address
    return json.loads(reply.params[0])


def test_osc_button_unplug_and_stop_keep_three_nodes_in_step(rig):
    nodes, log, port = rig
    names = [n.config.node_id for n in nodes]

    # OSC /cue/5/start: every node at cue 5 (answered to the sender with each node's result)
    reply = osc(port, "/cue/5/start")
    assert reply["status"] == "ok" and sorted(reply["data"]) == sorted(names), reply
    step(nodes, 30)
    assert [level(n) for n in nodes] == [50, 50, 50]

    # a button on node 2: all three run cue 6
    mark = len(log.lines)
    step(nodes, 400)  # past GO protection
    nodes[1].press("B1")
    step(nodes[1:2], 40)  # node 2 alone: its GO, its event
    for name in (names[0], names[2]):
        log.wait(rf"{name}: cue 6 ok", after=mark)
    nodes[1].release("B1")
    step(nodes, 30)
    assert [level(n) for n in nodes] == [60, 60, 60]

    # node 3 unplugged; GO from node 2 while it is away; replugged: caught up to cue 7
    nodes[2].unplug()
    log.wait(rf"{names[2]}: link lost", after=mark)
    mark = len(log.lines)
    step(nodes, 400)
    nodes[1].press("B1")
    step(nodes[:2], 40)
    log.wait(rf"{names[0]}: cue 7 ok", after=mark)
    nodes[1].release("B1")
    nodes[2].replug()
    log.wait(rf"catch up {names[2]}", after=mark)
    log.wait(rf"{names[2]}: cue 7 ok", after=mark)
    step(nodes, 30)
    assert [level(n) for n in nodes] == [70, 70, 70]

    # STOP from the console (OSC): every node's first dark packet within one frame
    for n in nodes:
        n.io.frames.clear()
    reply = osc(port, "/stop")
    assert reply["status"] == "ok", reply
    step(nodes, 30)
    firsts = [
        common_us(n, next(f.t_us for f in n.io.frames if f.slots[0] == 0), nodes[0]) for n in nodes
    ]
    assert max(firsts) - min(firsts) <= FRAME_US, firsts


def test_an_unknown_osc_address_is_answered_with_an_error(rig):
    nodes, log, port = rig
    reply = osc(port, "/cue/5/jump")
    assert reply["status"] == "error" and "unknown address" in reply["data"]


def test_osc_from_a_sender_not_on_the_allowlist_is_ignored():
    from cuenode.console.console import Console
    from cuenode.console.osc import OscServer

    lines: list[str] = []
    console = Console([], say=lines.append).start()
    server = OscServer(console, "127.0.0.1", 0, allow=("10.1.2.3",)).start()
    try:
        SimpleUDPClient("127.0.0.1", server.port).send_message("/go", [])
        assert console.wait_for(lambda: any("ignored /go from 127.0.0.1" in x for x in lines))
        assert not any("GO:" in x for x in lines)
    finally:
        server.close()
        console.close()


def test_opening_osc_to_the_network_needs_an_allowlist():
    from cuenode.console.osc import check_bind
    from cuenode.errors import CuenodeError

    with pytest.raises(CuenodeError, match="--osc-allow"):
        check_bind("0.0.0.0", ())
    assert check_bind("0.0.0.0", ("192.168.1.20",)) == ("192.168.1.20",)
    assert check_bind("127.0.0.1", ()) == ("127.0.0.1", "::1")
