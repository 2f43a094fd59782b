"""A node at the MicroPython REPL (friendly, raw or raw-paste mode) is named as such, with
`cuenode reset` as the remedy, never "no cuenode firmware" (issue 11). 10 tries per mode
here on both emulator runtimes; bench/bench_repl_diagnosis.py runs 100 per mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.errors import CuenodeError
from cuenode.node import ops
from repl_states import REPL_STATES, enter_state, take_port

REPO = Path(__file__).resolve().parent.parent
CUENODE = str(Path(sys.executable).parent / "cuenode")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module", params=["cpython", "micropython"])
def node(request, tmp_path_factory):
    demo = compile_file(REPO / "examples" / "demo.yaml")["stage"]
    with Fleet(tmp_path_factory.mktemp("emu"), runtime=request.param) as fleet:
        n = fleet.add(NodePlan("stage", demo))
        fleet.start()
        yield n


@pytest.mark.parametrize("state", REPL_STATES)
def test_every_try_in_every_repl_mode_says_at_the_repl(node, state):
    take_port(node.tty)
    wrong = []
    for _ in range(10):
        enter_state(node.tty, state)
        with pytest.raises(CuenodeError) as err:
            ops.connect(node.tty)
        text = err.value.format_message()
        if "at the MicroPython REPL" not in text or "cuenode reset" not in text:
            wrong.append(text)
    assert wrong == []


def test_cuenode_reset_brings_the_firmware_back(node):
    take_port(node.tty)
    boots = node.boots
    done = subprocess.run(
        [CUENODE, "reset", "--port", node.tty], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "standing by" in done.stdout
    assert node.boots > boots
    with ops.connect(node.tty) as s:
        assert s.info.node_id == "stage"
