"""The host end of the serial link: open a port, send frames, wait for their responses.

Uses pyserial's `serial_for_url`, so a USB device (`/dev/ttyACM0`), an emulated node's pty,
`socket://host:port` and `loop://` all work the same. Framing is the firmware's own
`cuefw.link`. Errors reach the user as one `CuenodeError` line.
"""

from __future__ import annotations

import errno
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import serial
from cuefw import link
from serial.tools import list_ports

from cuenode.errors import CuenodeError

# USB identities of boards that run cuenode: (VID, PID) -> what it is
KNOWN_USB = {
    (0x2E8A, 0x0005): "Raspberry Pi Pico (MicroPython USB CDC)",
    (0x10C4, 0xEA60): "CP210x USB-UART (ESP32 DevKitC)",
    (0x1A86, 0x7523): "CH340 USB-UART (ESP32 boards)",
    (0x303A, 0x1001): "ESP32-S3/C3 native USB",
}
DEFAULT_BAUD = 115200
READ_SLICE_S = 0.02  # how long one read waits: short, so deadlines are kept
RETRY_BACKOFF_S = 0.005  # first pause before a resend; doubles up to the max
RETRY_BACKOFF_MAX_S = 0.1
NOISY_EXTRA = 2  # a node answering with damaged frames gets up to 2x more time than silence
RESEND_S = 0.08  # silence this long after a short request: resend it
# Every link timeout times this: a node slower than real time (an emulated Pico runs at a
# fraction of it, docs/emulator.md) answers as fast in its own time but late in ours.
TIME_SCALE = max(1.0, float(os.environ.get("CUENODE_LINK_TIME_SCALE", "1") or 1))


@dataclass(frozen=True)
class Reply:
    status: int
    data: bytes

    @property
    def ok(self) -> bool:
        return self.status == link.OK


class Transport:
    """Request/response over one serial port, with timeouts and retries.

    A retried request keeps its sequence number, so the node recognises the duplicate and
    answers from its cache instead of acting twice (a lost GO response never skips a cue)."""

    def __init__(
        self, port: str, *, baudrate: int = DEFAULT_BAUD, timeout: float = 0.5, retries: int = 3
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.seq = random.randrange(0x10000)  # a fresh session never reuses the last seqs
        self.deframer = link.Deframer()
        self.pending: list[link.Frame] = []
        # Event frames (docs/protocol.md, "Events") that arrived while waiting for responses,
        # oldest first: a subscribed session reads them with take_events()
        self.events: list[link.Frame] = []
        self.raw_tail = bytearray()  # the last bytes seen, to recognise a REPL prompt
        self.ser: serial.SerialBase | None = None

    def open(self) -> Transport:
        try:
            self.ser = serial.serial_for_url(
                self.port,
                baudrate=self.baudrate,
                timeout=READ_SLICE_S,
                write_timeout=5,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise open_error(self.port, exc) from None
        return self

    def close(self) -> None:
        if self.ser is not None:
            self.ser.close()
            self.ser = None

    def __enter__(self) -> Transport:
        return self if self.ser is not None else self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def next_seq(self) -> int:
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def write(self, data: bytes | bytearray) -> None:
        assert self.ser is not None
        try:
            self.ser.write(data)
        except (serial.SerialException, OSError) as exc:
            raise CuenodeError(
                f"lost the connection to {self.port} ({exc})", "check the cable and try again"
            ) from None

    def send(self, ftype: int, payload: bytes | bytearray = b"", seq: int | None = None) -> int:
        seq = self.next_seq() if seq is None else seq
        self.write(link.encode(ftype, seq, payload))
        return seq

    def receive(self, timeout: float) -> link.Frame | None:
        """The next response frame within `timeout` seconds; None at the timeout or right
        after a damaged frame."""
        deadline = time.monotonic() + TIME_SCALE * timeout
        damaged = self._damaged()
        while not self.pending:
            chunk = self._read()
            if chunk:
                self._sort(self.deframer.feed(chunk))
                self.raw_tail = (self.raw_tail + chunk)[-256:]
                if not self.pending and self._damaged() != damaged:
                    return None  # a frame arrived damaged: the caller may ask again now
            elif time.monotonic() >= deadline:
                return None
        return self.pending.pop(0)

    def _sort(self, frames: list[link.Frame]) -> None:
        for f in frames:
            if f.ftype & link.RESPONSE:
                self.pending.append(f)
            elif f.ftype == link.T_EVENT:
                self.events.append(f)

    def take_events(
        self, timeout: float = 0.0, until: Callable[[], bool] | None = None
    ) -> list[link.Frame]:
        """Event frames received so far; if none, wait up to `timeout` s for some, or until
        `until()` holds (checked after every read slice: the console's worker stops waiting
        the moment a command is queued for its node)."""
        deadline = time.monotonic() + timeout
        while not self.events:
            chunk = self._read()
            if chunk:
                self._sort(self.deframer.feed(chunk))
                self.raw_tail = (self.raw_tail + chunk)[-256:]
            elif time.monotonic() >= deadline or (until is not None and until()):
                break
        out, self.events = self.events, []
        return out

    def _read(self) -> bytes:
        assert self.ser is not None
        try:
            return self.ser.read(max(1, self.ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise CuenodeError(
                f"lost the connection to {self.port} ({exc})", "check the cable and try again"
            ) from None

    def request(
        self,
        ftype: int,
        payload: bytes | bytearray = b"",
        *,
        timeout: float | None = None,
        retries: int | None = None,
        resend_after: float | None = None,
    ) -> Reply | None:
        """Send and wait for the matching response; resend (same seq) until it comes.

        The budget is the whole `timeout * (retries + 1)`, not a count of sends: a response
        that arrives damaged (bad CRC, bad escape) is asked for again at once (after a short,
        growing backoff) instead of waiting out the timeout, so a noisy line costs a few
        milliseconds per lost frame, not half a second; while damaged frames keep arriving
        the budget stretches (up to NOISY_EXTRA times more). Silence (the request itself was
        damaged, or the response's END) is resent after `resend_after`: by default a quick
        RESEND_S (plus the wire time at a slow baud) for the default short requests, the
        whole `timeout` for a caller's own (slow operations: don't pile up duplicates).
        Returns None when the node never answered within the budget."""
        if resend_after is None:
            resend_after = timeout if timeout is not None else self.quick_resend()
        timeout = TIME_SCALE * (self.timeout if timeout is None else timeout)
        resend_after *= TIME_SCALE
        retries = self.retries if retries is None else retries
        seq = self.next_seq()
        budget = timeout * (retries + 1)
        give_up = time.monotonic() + budget
        hard_stop = give_up + NOISY_EXTRA * budget
        backoff = RETRY_BACKOFF_S
        first = True
        while time.monotonic() < give_up:
            if not first:  # END first: the node drops whatever half frame it holds
                self.write(bytes([link.END]))
            first = False
            self.send(ftype, payload, seq)
            wait_until = min(give_up, time.monotonic() + resend_after)
            reply, damaged = self._await(ftype, seq, wait_until)
            if reply is not None:
                return reply
            if damaged:  # the node is there and answering: ask again straight away, and
                # keep asking a while longer than for a silent port (up to hard_stop)
                give_up = min(hard_stop, max(give_up, time.monotonic() + timeout))
                continue
            time.sleep(min(backoff, max(0.0, give_up - time.monotonic())))
            backoff = min(backoff * 2, RETRY_BACKOFF_MAX_S)
        return None

    def quick_resend(self) -> float:
        """How long silence means 'lost': the node answers within a frame tick, plus the
        time a biggish (300 byte) response takes on a slow UART."""
        return min(self.timeout, RESEND_S + 300 * 10 / max(self.baudrate, 9600))

    def _damaged(self) -> int:
        d = self.deframer
        return d.crc_errors + d.bad_escapes + d.overflows

    def _await(self, ftype: int, seq: int, deadline: float) -> tuple[Reply | None, bool]:
        """(the response to `seq`, False) before `deadline`; (None, True) as soon as a damaged
        frame arrives (most likely the response itself: resend); (None, False) on silence."""
        damaged = self._damaged()
        while (left := deadline - time.monotonic()) > 0:
            frame = self.receive(min(left, READ_SLICE_S * 5))
            if frame is not None and frame.seq == seq and frame.ftype == ftype | link.RESPONSE:
                return Reply(frame.payload[0], bytes(frame.payload[1:])), False
            if frame is None and self._damaged() != damaged:
                return None, True
        return None, False

    def resync(self) -> None:
        """End any half-received frame on the node and drop stale input here."""
        self.write(bytes([link.END]))
        assert self.ser is not None
        try:
            self.ser.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass
        self.pending.clear()
        self.deframer.reset()

    def saw_repl_prompt(self) -> bool:
        return b">>> " in self.raw_tail or b"raw REPL" in self.raw_tail


def open_error(port: str, exc: BaseException) -> CuenodeError:
    """Turn pyserial's many ways of failing to open a port into one line the user can act on."""
    text = str(exc)
    err = getattr(exc, "errno", None)
    # pyserial words every failure "could not open port ...": look at the cause, not that
    if err == errno.EACCES or "Permission denied" in text:
        return CuenodeError(
            f"no permission to open {port} (permission denied)",
            "add yourself to the `dialout` group (`sudo usermod -aG dialout $USER`), then log "
            "out and in again",
        )
    if err == errno.EBUSY or "exclusively lock" in text or "busy" in text.lower():
        return CuenodeError(f"port busy — is another program using it? ({port})")
    if err == errno.ENOENT or "No such file" in text:
        return CuenodeError(
            f"no such port {port}",
            "is the node plugged in? `cuenode status --all` lists the nodes found",
        )
    return CuenodeError(f"cannot open {port}: {text}")


# --- port discovery --------------------------------------------------------------------------


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    serial_number: str | None = None


def usb_ports(
    vid: int | None = None, pid: int | None = None, serial_number: str | None = None
) -> list[PortInfo]:
    """USB serial ports of known cuenode boards (or of the given VID/PID/serial number)."""
    found = []
    for p in list_ports.comports():
        if p.vid is None:
            continue
        if vid is not None or pid is not None or serial_number is not None:
            if (
                (vid is not None and p.vid != vid)
                or (pid is not None and p.pid != pid)
                or (serial_number is not None and p.serial_number != serial_number)
            ):
                continue
            desc = p.description
        elif (p.vid, p.pid) in KNOWN_USB:
            desc = KNOWN_USB[(p.vid, p.pid)]
        else:
            continue
        found.append(PortInfo(p.device, desc, p.serial_number))
    return sorted(found, key=lambda p: p.device)


def emulator_ports(search: Iterable[Path] | None = None) -> list[PortInfo]:
    """Virtual nodes started by `cuenode emulate` (their stable `.cuenode/nodes/*.tty` links)."""
    dirs = list(search) if search is not None else _emulator_dirs()
    found = []
    for d in dirs:
        for tty in sorted(d.glob("*.tty")):
            if tty.exists():  # a dangling link is a node that has stopped
                found.append(PortInfo(str(tty), f"emulated node {tty.stem}"))
    return found


def _emulator_dirs() -> list[Path]:
    env = os.environ.get("CUENODE_NODES_DIR")
    return [Path(env)] if env else [Path.cwd() / ".cuenode" / "nodes"]


def discover() -> list[PortInfo]:
    return usb_ports() + emulator_ports()
