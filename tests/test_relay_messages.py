"""A cue whose relay is skipped because the node is disarmed says so ("fog not armed") in the
reply, the CLI and status; the event log names relays as the show does (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.paths import EXAMPLES_DIR

CUENODE = str(Path(sys.executable).parent / "cuenode")
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    demo = compile_file(EXAMPLES_DIR / "demo.yaml")["stage"]
    with Fleet(tmp_path_factory.mktemp("emu")) as fleet:
        node = fleet.add(NodePlan("stage", demo))
        fleet.start()
        yield node.tty


def cuenode(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CUENODE, *args], capture_output=True, text=True, timeout=60)


def test_a_cue_that_skips_a_disarmed_relay_says_so(port: str) -> None:
    done = cuenode("goto", "3.5", "--port", port)  # cue 3.5: fog pulse 4s; node disarmed
    assert done.returncode == 0, done.stderr
    assert "skipped fog not armed" in done.stdout
    status = json.loads(cuenode("status", "--json", "--port", port).stdout)
    assert status["skipped"] == ["fog not armed"]
    assert "the last cue skipped: fog not armed" in cuenode("status", "--port", port).stdout
    log = cuenode("log", "--port", port).stdout
    assert "relay-refused: fog: not-armed" in log
    assert "relay 0" not in log
    armed = cuenode("arm", "--port", port)
    assert armed.returncode == 0, armed.stderr
    again = cuenode("goto", "3.5", "--port", port)
    assert "skipped" not in again.stdout
    assert "relay-on: fog pulse" in cuenode("log", "--port", port).stdout
    assert json.loads(cuenode("status", "--json", "--port", port).stdout)["skipped"] == []
