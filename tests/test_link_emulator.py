"""End to end: the host link against emulated nodes (real firmware/main.py in node processes,
each on its own pty), with pyserial, the real mpremote CLI and the virtual DMX line."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from array import array
from pathlib import Path

import pytest
from cuefw import showfile
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.errors import CuenodeError
from cuenode.node import ops
from link_support import sized_blob

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo() -> bytes:
    return compile_file(REPO / "examples" / "demo.yaml")["stage"]


@pytest.fixture(params=["cpython", "micropython"])
def fleet(request, tmp_path):
    """Real-time nodes on both runtimes (docs/emulator.md, Runtimes)."""
    with Fleet(tmp_path / "emu", runtime=request.param) as f:
        yield f


def expected_slots(blob: bytes, cue_index: int) -> dict[int, int]:
    """Slot -> level once cue `cue_index` has completed, from the compiled show itself."""
    reader = showfile.ShowReader(io.BytesIO(blob))
    look = array("H", [0] * reader.n_params)
    reader.read_look(cue_index, look)
    slots = {}
    for p in range(reader.n_params):
        coarse, fine = reader.param(p)
        if fine:
            slots[coarse], slots[fine] = look[p] >> 8, look[p] & 0xFF
        else:
            slots[coarse] = look[p]
    return slots


def wait_for_levels(world, want: dict[int, int], timeout: float) -> dict[int, int]:
    deadline = time.monotonic() + timeout
    got: dict[int, int] = {}
    while time.monotonic() < deadline:
        frame = world.request_frame()
        if frame is not None:
            got = {slot: frame.slots[slot - 1] for slot in want}
            if got == want:
                return got
        time.sleep(0.05)
    return got


def test_push_go_status_and_levels_on_the_dmx_line(fleet, demo):
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    world = node.world()
    with ops.connect(node.tty) as s:
        assert s.info.node_id == "stage" and s.info.show_hash == ""
        pushed = ops.push(s, demo, "stage")
        assert pushed.switched
        ops.go(s)
        st = ops.status(s)
    assert st["show_hash"] == demo[-32:].hex() and st["mode"] == "running"
    want = expected_slots(demo, 0)
    assert any(want.values())  # cue 1 really lights something
    assert wait_for_levels(world, want, timeout=15) == want
    assert (node.flash_dir / "show.bin").read_bytes() == demo


def test_cli_push_yaml_to_emulated_node_then_mpremote_reaches_the_repl(fleet, demo):
    """REPL coexistence: with cuenode running a show, the real mpremote gets the REPL (its
    Ctrl-C is never part of link traffic), and `mpremote reset` brings cuenode back."""
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    cuenode, mpremote = str(BIN / "cuenode"), str(BIN / "mpremote")
    push = subprocess.run(
        [cuenode, "push", str(REPO / "examples" / "demo.yaml"), "--port", node.tty],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert push.returncode == 0, push.stderr
    go = subprocess.run(
        [cuenode, "go", "--port", node.tty], capture_output=True, text=True, timeout=60
    )
    assert go.returncode == 0, go.stderr
    run = subprocess.run(
        [mpremote, "connect", node.tty, "exec", "print(6 * 7)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stdout.strip() == "42", run.stderr
    ls = subprocess.run(
        [mpremote, "connect", node.tty, "fs", "ls"], capture_output=True, text=True, timeout=60
    )
    assert "show.bin" in ls.stdout
    at_repl = subprocess.run(
        [cuenode, "status", "--port", node.tty], capture_output=True, text=True, timeout=60
    )
    assert at_repl.returncode == 1
    assert "is at the MicroPython REPL" in at_repl.stderr and "reset" in at_repl.stderr
    boots = node.boots
    subprocess.run([mpremote, "connect", node.tty, "reset"], capture_output=True, timeout=60)
    node.wait_boot(boots + 1)
    deadline = time.monotonic() + 10
    while True:
        try:
            with ops.connect(node.tty) as s:
                assert s.info.show_hash == demo[-32:].hex()  # back, with the pushed show
                break
        except CuenodeError:
            if time.monotonic() > deadline:
                raise


def test_power_cut_at_any_point_of_a_push_leaves_a_verifiable_show(fleet, demo, monkeypatch):
    """Cut the power at the k-th flash write of a push, for every k across the transfer and
    the commit: the node always comes back running the old show or the new one, and the
    next push resumes where the transfer stopped."""
    old, new = demo, sized_blob("stage", 24 * 1024)
    monkeypatch.setattr(ops, "PUSH_TIMEOUT_S", 0.5)  # the node is local: answers are fast
    monkeypatch.setattr(ops, "COMMIT_TIMEOUT_S", 1.0)
    node = fleet.add(NodePlan("stage", old))
    fleet.start()
    world = node.world()
    before = world.request("flash_writes")["writes"]
    with ops.connect(node.tty) as s:
        ops.push(s, new, "stage")
        writes_per_push = world.request("flash_writes")["writes"] - before
        ops.push(s, old, "stage")
    outcomes, resumed, cuts = set(), 0, 0
    for k in range(1, writes_per_push + 2):
        boots = node.boots
        world.close()
        world = node.world()
        world.request("power_cut_at_write", k=k)
        try:
            with ops.connect(node.tty) as s:
                ops.push(s, new, "stage")
            cut = node.boots > boots  # the commit answered: the cut (if any) came after it
        except CuenodeError:
            node.wait_boot(boots + 1)
            cut = True
        world.close()
        world = node.world()
        if not cut:
            world.request("power_cut_at_write", k=1 << 30)  # disarm: the push was shorter
        with ops.connect(node.tty) as s:
            running = s.info.show_hash
            assert running in (old[-32:].hex(), new[-32:].hex()), k
            outcomes.add("new" if running == new[-32:].hex() else "old")
            cuts += cut
            if cut:
                result = ops.push(s, new, "stage")
                resumed += result.resumed_from > 0
            ops.push(s, old, "stage")  # back to the old show for the next k
    world.close()
    assert outcomes == {"old", "new"} and cuts == writes_per_push
    assert resumed >= 5  # transfers cut mid-way continued from the bytes already on flash


def test_repl_request_drops_the_node_to_the_repl(fleet, demo):
    node = fleet.add(NodePlan("stage", demo))
    fleet.start()
    world = node.world()
    with ops.connect(node.tty) as s:
        ops.request_repl(s)
    deadline = time.monotonic() + 10
    while world.state()["repl"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert world.state()["repl"] != "running"
    run = subprocess.run(
        [str(BIN / "mpremote"), "connect", node.tty, "exec", "print(7)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip() == "7"


def test_new_show_waits_for_the_running_fade_unless_forced(fleet, demo):
    other = sized_blob("stage", 8 * 1024)
    node = fleet.add(NodePlan("stage", demo))
    fleet.start()
    with ops.connect(node.tty) as s:
        ops.go(s)  # cue 1 fades for 3 s
        assert ops.push(s, other, "stage").switched is False
        assert ops.refresh(s).show_hash == demo[-32:].hex()  # still the old show
        deadline = time.monotonic() + 15
        while ops.refresh(s).show_hash != other[-32:].hex():
            assert time.monotonic() < deadline, "the new show never came in"
            time.sleep(0.1)
        ops.go(s)
        assert ops.push(s, demo, "stage", force_switch=True).switched is True
        assert ops.refresh(s).show_hash == demo[-32:].hex()
