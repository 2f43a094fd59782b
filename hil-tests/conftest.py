"""Hardware-in-the-loop suite. The same tests run against a real node (`--node /dev/ttyACM0`)
or, by default, against an emulated node (the real firmware files, virtual time).

The `rig` fixture is what a test touches: the node's serial port, and the node's physical
world (DMX line, buttons, relays). On the emulator the world is its socket; on hardware it is
the HIL jig (see boards/*.py HIL_JIG), which this suite cannot drive yet, so checks that need
it skip with that reason, and only the serial-link checks run against hardware.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--node",
        default=None,
        metavar="PORT",
        help="run the HIL suite against the node on PORT (default: an emulated node)",
    )


class Rig:
    """One node under test and the means to watch and poke it."""

    def __init__(self, port: str, node: Any = None) -> None:
        self.port = port
        self.node = node  # a cuenode.emulator VirtualNode, or None on hardware

    @property
    def emulated(self) -> bool:
        return self.node is not None

    def need_jig(self, what: str) -> None:
        if not self.emulated:
            pytest.skip(f"hardware: {what} needs the HIL jig, which this suite cannot drive yet")

    def wait(self, ms: int) -> None:
        """Let node time pass: virtual on the emulator, wall-clock on hardware."""
        if self.emulated:
            self.node.advance(ms=ms)
        else:
            time.sleep(ms / 1000)

    def press(self, button: str, hold_ms: int = 50) -> None:
        self.need_jig(f"pressing {button}")
        self.node.press(button)
        self.wait(hold_ms)
        self.node.release(button)

    def frames(self, ms: int) -> list:
        """Every DMX packet on the line during the next `ms` of node time."""
        self.need_jig("watching the DMX line")
        io = self.node.io
        io.subscribe(dmx=True)
        io.frames.clear()
        self.wait(ms)
        io.subscribe(dmx=False)
        return list(io.frames)


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    port = request.config.getoption("--node")
    if port:
        yield Rig(port)
        return
    from cuenode.build.compile import compile_file
    from cuenode.emulator.fleet import Fleet, NodePlan
    from cuenode.paths import EXAMPLES_DIR

    show = compile_file(Path(EXAMPLES_DIR) / "demo.yaml")["stage"]
    fleet = Fleet(tmp_path_factory.mktemp("hil"))
    node = fleet.add(NodePlan("stage", show), virtual=True)
    fleet.start()
    node.advance(ms=100)  # boot, show loaded
    try:
        yield Rig(node.tty, node)
    finally:
        fleet.stop()
