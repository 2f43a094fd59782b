"""The host side of the HIL jig: a second Pico running firmware/jig/ on its own USB serial.

    jig = Jig.open("/dev/ttyACM1", wiring.board_data("pico"))
    jig.drive("B1", pressed=True)             # open drain: the node's B1 reads low
    rec = jig.record(250, ("R1",), action)    # the DMX line and R1 for 250 ms of jig time
    rec.packets()                             # break, MAB, every slot and its start time

The jig speaks firmware/jig/jigproto.py (a line per command and reply; DMX as blocks of the
PIO receiver's words, decoded here by the firmware's own firmware/jig/dmxwords.py). Times are
the jig's ticks_us, unwrapped here into one growing microsecond clock.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.hil import dmxline
from cuenode.paths import FIRMWARE_DIR

JIG_DIR = FIRMWARE_DIR / "jig"
CHIP_FILES = ("main.py", "jigapp.py", "jigdmx.py", "jigproto.py", "edgering.py")
REPLY_TIMEOUT_S = 3.0  # wall clock, times CUENODE_LINK_TIME_SCALE (an emulated jig is slower)
TICKS_PERIOD = 1 << 30


def firmware_module(name: str) -> ModuleType:
    """One of the jig firmware's pure modules (dmxwords, jigproto, edgering), as on the chip."""
    spec = importlib.util.spec_from_file_location(f"cuenode_jig_{name}", JIG_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dmxwords = firmware_module("dmxwords")
jigproto = firmware_module("jigproto")


def chip_files() -> dict[str, bytes]:
    """What goes onto the jig Pico (`mpremote cp` these to its root)."""
    return {name: (JIG_DIR / name).read_bytes() for name in CHIP_FILES}


def jig_wiring(board_data: dict[str, Any]) -> dict[str, Any]:
    """The board's HIL_JIG, as the jig's `wire` command takes it."""
    jig = board_data.get("HIL_JIG")
    if not isinstance(jig, dict):
        raise CuenodeError("the board has no HIL_JIG wiring", "add HIL_JIG to its boards/ file")
    out = {k: jig[k] for k in ("buttons", "relays", "leds", "power") if k in jig}
    dmx = jig.get("dmx")
    out["dmx"] = dmx.get("DMX_TX") if isinstance(dmx, dict) else dmx  # {"DMX_TX": gpio}
    return out


class Clock:
    """The jig's 30-bit ticks_us as one growing count of microseconds."""

    def __init__(self) -> None:
        self.last_raw: int | None = None
        self.last = 0

    def us(self, raw: int) -> int:
        if self.last_raw is None:
            self.last_raw, self.last = raw, raw
            return raw
        half = TICKS_PERIOD // 2
        diff = ((raw - self.last_raw + half) % TICKS_PERIOD) - half
        value = self.last + diff
        if diff > 0:
            self.last_raw, self.last = raw, value
        return value


def packets_from_words(decoder: Any, t0_us: int, sm_hz: int) -> list[dmxline.Packet]:
    """The decoder's finished packets as dmxline Packets on the jig's microsecond clock."""
    per_us = sm_hz / 1e6
    return [
        dmxline.Packet(
            t_us=t0_us + p.t / per_us,
            break_us=p.brk / per_us,
            mab_us=p.mab / per_us,
            data=bytearray(p.data),
            starts_us=[t0_us + s / per_us for s in p.starts],
            framing_errors=p.errors,
        )
        for p in decoder.packets
    ]


@dataclass
class Capture:
    """One recording on the jig's microsecond clock (rig.HardwareRig makes a Recording of it)."""

    start_us: float
    end_us: float
    pins: dict[str, list[tuple[float, int]]]
    packets: list[dmxline.Packet]


class _Recording:
    """What arrives while the jig records: edges by label, the DMX words, the end line."""

    def __init__(self, pins: tuple[str, ...]) -> None:
        self.decoder = dmxwords.Decoder()
        self.edges: dict[str, list[tuple[int, int]]] = {label: [] for label in pins}
        self.end: dict[str, str] | None = None
        self.done = threading.Event()


class Jig:
    """A connected jig. Every method waits for the jig's answer (CuenodeError on `err`)."""

    def __init__(self, serial_port: Any, board_data: dict[str, Any]) -> None:
        self.ser = serial_port
        self.clock = Clock()
        self.stream = jigproto.Stream()
        self.replies: queue.Queue[str] = queue.Queue()
        self.rec: _Recording | None = None
        self.drives: list[int] = []  # times of drive() calls while an action runs
        self.lock = threading.Lock()
        self.closed = False
        self.reader = threading.Thread(target=self._read, name="jig-reader", daemon=True)
        self.reader.start()
        self.info = self._hello()
        self.sm_hz = int(self.info.get("sm_hz", dmxwords.CYCLES_PER_US * 1_000_000))
        self.ask("wire " + json.dumps(jig_wiring(board_data), separators=(",", ":")))

    @classmethod
    def open(cls, port: str, board_data: dict[str, Any]) -> Jig:
        import serial

        try:
            ser = serial.Serial(port, 115200, timeout=0.05)
        except (OSError, serial.SerialException) as exc:
            raise CuenodeError(
                f"jig {port}: {exc}", "check the jig's USB cable and its port name"
            ) from exc
        return cls(ser, board_data)

    def close(self) -> None:
        self.closed = True
        self.reader.join(timeout=1)
        self.ser.close()

    # -- the conversation ----------------------------------------------------------------
    def _read(self) -> None:
        while not self.closed:
            try:
                data = self.ser.read(max(1, self.ser.in_waiting))
            except (OSError, TypeError):
                return  # the port went away (closed, unplugged)
            for kind, item in self.stream.feed(data):
                self._dispatch(kind, item)

    def _dispatch(self, kind: str, item: Any) -> None:
        rec = self.rec
        if kind == "dmx":
            if rec is not None:
                rec.decoder.feed(item)
        elif item.startswith("e ") and rec is not None:
            _, label, t, level = item.split()
            if label in rec.edges:
                rec.edges[label].append((int(t), int(level)))
        elif item.startswith("end ") and rec is not None:
            rec.end = jigproto.fields(item)
            rec.done.set()
        elif item.startswith(("ok", "err")):
            self.replies.put(item)

    def ask(self, line: str, timeout: float = REPLY_TIMEOUT_S) -> dict[str, str]:
        """Send one command; its reply's fields. CuenodeError if the jig says err or nothing."""
        from cuenode.node.transport import TIME_SCALE

        with self.lock:
            self.ser.write(line.encode() + b"\n")
            try:
                reply = self.replies.get(timeout=timeout * TIME_SCALE)
            except queue.Empty:
                raise CuenodeError(
                    f"the HIL jig did not answer '{line.split()[0]}'",
                    "is the jig firmware on it (docs/hil.md, 'Flashing the jig')?",
                ) from None
        if reply.startswith("err"):
            raise CuenodeError(f"HIL jig: {reply[4:]}", "check the board's HIL_JIG wiring")
        return jigproto.fields(reply)

    def _hello(self) -> dict[str, str]:
        self.ser.reset_input_buffer()
        try:
            return self.ask("hello")
        except CuenodeError:
            self.ser.write(b"\x04")  # at the REPL: a soft reset runs main.py, the jig
            time.sleep(0.5)
            return self.ask("hello", timeout=2 * REPLY_TIMEOUT_S)

    # -- the world -----------------------------------------------------------------------
    def now_us(self) -> float:
        return float(self.clock.us(int(self.ask("now")["t"])))

    def drive(self, label: str, pressed: bool) -> float:
        """Press (pin driven low) or release (high impedance) a button; when, in jig us."""
        t = float(self.clock.us(int(self.ask(f"drive {label} {int(pressed)}")["t"])))
        self.drives.append(int(t))
        return t

    def sense(self, label: str) -> int:
        return int(self.ask(f"sense {label}")["level"])

    def power(self, on: bool) -> float:
        return float(self.clock.us(int(self.ask(f"power {int(on)}")["t"])))

    def wait_until(self, t_us: float) -> None:
        """Return once the jig's clock reads `t_us` (an emulated jig may run slow)."""
        while (now := self.now_us()) < t_us:
            time.sleep(min(0.05, (t_us - now) / 1e6))

    def record(
        self,
        ms: int,
        pins: tuple[str, ...] = (),
        action: Callable[[], Any] | None = None,
        lead_ms: int = 0,
    ) -> Capture:
        """The DMX line and `pins` for lead_ms + ms of jig time; `action` runs after lead_ms,
        and start_us is then (or its first button drive, if it has one)."""
        rec = self.rec = _Recording(tuple(pins))
        try:
            t0 = self.clock.us(int(self.ask(f"rec {lead_ms + ms} {' '.join(pins)}")["t0"]))
            start = float(t0 + 1000 * lead_ms)
            if lead_ms:
                self.wait_until(start)
            if action is not None:
                start = self._run(action)
            self._wait_end(rec, lead_ms + ms)
        finally:
            self.rec = None
        assert rec.end is not None
        self._check_end(rec.end)
        return Capture(
            start,
            float(self.clock.us(int(rec.end["t1"]))),
            {k: [(float(self.clock.us(t)), lv) for t, lv in v] for k, v in rec.edges.items()},
            packets_from_words(rec.decoder, t0, self.sm_hz),
        )

    def _run(self, action: Callable[[], Any]) -> float:
        self.drives = []
        start = self.now_us()
        action()
        return float(self.drives[0]) if self.drives else start

    def _wait_end(self, rec: _Recording, ms: int) -> None:
        from cuenode.node.transport import TIME_SCALE

        if not rec.done.wait(TIME_SCALE * (ms / 1000 + 10)):
            raise CuenodeError(
                "the HIL jig never ended its recording", "check its USB cable; reset the jig"
            )

    def _check_end(self, end: dict[str, str]) -> None:
        if end.get("stall") == "1":
            raise CuenodeError(
                "the HIL jig lost DMX data (its ring or FIFO overflowed)",
                "record shorter windows, or keep the host from stalling the jig's USB",
            )
        if end.get("lost", "0") != "0":
            raise CuenodeError(
                f"the HIL jig lost {end['lost']} pin edges (more than its ring holds)",
                "a pin is toggling far faster than a relay or LED should: check the wiring",
            )
