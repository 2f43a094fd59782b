"""Safety of a running node across show pushes, on emulated nodes in virtual time (the real
firmware/main.py): relays, buttons and timing must not depend on which show booted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cuenode import nodeops
from cuenode.emulator.fleet import Fleet, NodePlan, compile_show_file
from cuenode.paths import EXAMPLES_DIR

pytestmark = pytest.mark.timeout(120)


def demo_variant(tmp_path: Path, fog_pin: str) -> bytes:
    """examples/demo.yaml with the fog relay wired to another board pin."""
    shutil.copytree(Path(EXAMPLES_DIR) / "fixtures", tmp_path / "fixtures", dirs_exist_ok=True)
    text = (Path(EXAMPLES_DIR) / "demo.yaml").read_text().replace("pin: R1", f"pin: {fog_pin}")
    path = tmp_path / f"demo-{fog_pin}.yaml"
    path.write_text(text)
    return compile_show_file(path)["stage"]


@pytest.fixture
def fleet(tmp_path):
    with Fleet(tmp_path / "emu") as f:
        yield f


def pin_level(node, label: str) -> int:
    return node.io.state()["pins"][str(node.gpio(label))]


def test_a_push_that_moves_the_fog_relay_leaves_no_pin_on(fleet, tmp_path) -> None:
    on_r1, on_r2 = demo_variant(tmp_path, "R1"), demo_variant(tmp_path, "R2")
    node = fleet.add(NodePlan("stage", on_r1), virtual=True)
    fleet.start()
    node.advance(ms=100)
    with nodeops.connect(node.tty) as session:
        nodeops.arm(session)
        nodeops.goto(session, "3.5")  # cue 3.5 pulses the fog relay for 4 s
        node.advance(ms=100)
        assert pin_level(node, "R1") == 1  # emulator relays are active high
        assert nodeops.push(session, on_r2, "stage", force_switch=True).switched
    node.advance(ms=100)
    assert pin_level(node, "R1") == 0, "R1 stayed on after the show stopped mapping it"
    assert pin_level(node, "R2") == 0
    node.advance(ms=12_000)  # past the fog's 10 s max_on: nothing may have come back on
    assert pin_level(node, "R1") == 0 and pin_level(node, "R2") == 0
