"""Typed operations on one node over the link: hello, push, go, back, stop, goto, arm, disarm,
status, log. They work without click; the CLI (cli/link.py) only parses arguments."""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cuefw import eventlog, link, store

from cuenode.errors import CuenodeError, NodeRefused
from cuenode.node import transport as transport_mod
from cuenode.node.transport import Transport

HELLO_QUICK_S = 0.15  # first HELLO: a running node answers within a frame or two
HELLO_TIMEOUT_S = 0.5
HELLO_RETRIES = 3
PUSH_TIMEOUT_S = 2.0  # a chunk's answer may wait behind a window of chunks and a flash write
PUSH_RETRIES = 5
PUSH_RESTARTS = 2  # a node that restarted mid-push is asked to resume this often
MIN_CHUNK = 64  # smallest chunk a noisy line falls back to
NOISY_RESEND_S = 0.2  # on a noisy line: silence this long after a window, resend
COMMIT_TIMEOUT_S = 5.0  # the node hashes the whole show before it answers
COMMIT_RESEND_S = 0.6  # it answers each slice of that work; silence this long: resend


@dataclass(frozen=True)
class NodeInfo:
    """What a node says about itself in HELLO."""

    port: str
    proto: int
    fw_version: str
    board: str
    node_id: str
    show_name: str
    show_hash: str
    caps: int
    chunk: int
    window: int
    max_show: int

    def label(self) -> str:
        return f"node '{self.node_id}' on {self.port}" if self.node_id else f"node on {self.port}"


@dataclass
class PushResult:
    node: str
    size: int
    resumed_from: int
    seconds: float
    switched: bool
    wire_bytes: int = 0  # bytes of the transfer: the compressed size when deflated
    retransmitted: int = 0
    # where the switched-in show stands by: {"next", "was_next", "kept": "same" | "following"
    # | "end" | "top"} (cuefw.nodeapi EngineNode._place); None if it has not switched yet
    position: dict | None = None

    @property
    def bytes_per_s(self) -> float:
        """Show bytes delivered per second (what the user waits for), resumed part excluded."""
        wire = self.wire_bytes or self.size
        sent = self.size * (wire - self.resumed_from) / wire if wire else 0
        return sent / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Session:
    """An open link to one node that has answered HELLO."""

    transport: Transport
    info: NodeInfo
    events: bool = False  # subscribed to event frames (every HELLO of this session says so)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        ftype: int,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        retries: int | None = None,
        resend_after: float | None = None,
    ) -> bytes:
        """One request; a refusal or silence becomes a CuenodeError naming this node."""
        reply = self.transport.request(
            ftype, payload, timeout=timeout, retries=retries, resend_after=resend_after
        )
        if reply is None:
            raise CuenodeError(
                f"{self.info.label()} is not answering",
                "check the cable; if the node rebooted, run the command again",
            )
        if not reply.ok:
            raise refusal(self.info, reply.status, reply.data)
        return reply.data


# What to do about each reason the engine gives for refusing GO/BACK/GOTO (cuefw.eventlog),
# by command where the cause differs: BACK's "end-of-list" is the *start* of the list.
ENGINE_REMEDIES = {
    "go-protect": "GO protection: a second GO came too soon after the last one; press again",
    "end-of-list": "the cue list has ended: GOTO a cue, or BACK",
    "no-show": "push a show first: `cuenode push show.yaml`",
    "no-such-cue": "check the cue number against the show (`cuenode status` shows where it is)",
}
BACK_REMEDIES = {
    "go-protect": "BACK protection: a second BACK came too soon after the last one (a double "
    "press goes back one cue, not two); press again",
    "end-of-list": "already at the first cue: there is no cue before it",
}


def refusal(info: NodeInfo, status: int, data: bytes) -> NodeRefused:
    """The error for a node's refusal; carries the link status (push resumes on E_NO_TRANSFER)."""
    message, remedy = _refusal_text(info, status, data)
    return NodeRefused(message, remedy, status)


def _refusal_text(info: NodeInfo, status: int, data: bytes) -> tuple[str, str | None]:
    if status == link.E_IDENTITY:
        who = json.loads(data)
        return (
            f"show is compiled for node '{who['show_node']}' but {info.port} is node "
            f"'{who['node']}'",
            "push to the right node, or use --force to override",
        )
    if status == link.E_NO_TRANSFER:
        return (
            f"{info.label()} lost the transfer (did it restart?)",
            "run the push again: it resumes where it stopped",
        )
    text = data.decode(errors="replace") if status != link.E_OFFSET else ""
    if status == link.E_ENGINE and text:  # the engine's own words: "GOTO 99 refused: ..."
        reason = text.rsplit(": ", 1)[-1]
        remedies = BACK_REMEDIES if text.startswith("BACK") else {}
        return f"{info.label()}: {text}", remedies.get(reason, ENGINE_REMEDIES.get(reason))
    what = link.STATUS_NAMES.get(status, f"error {status}")
    detail = f": {text}" if text and text != what else ""
    return f"{info.label()} refused: {what}{detail}", None


# --- connecting ------------------------------------------------------------------------------


def hello_payload(events: bool) -> bytes:
    """HELLO: our protocol version, and (optional byte) HELLO_EVENTS to receive event frames."""
    if events:
        return bytes([link.PROTOCOL_VERSION, link.HELLO_EVENTS])
    return bytes([link.PROTOCOL_VERSION])


def connect(port: str, *, baudrate: int = 115200, events: bool = False) -> Session:
    """Open `port` and greet the node; a port without cuenode firmware is a clear error.
    events=True subscribes to the node's event frames (read them with `events()`).

    A short first HELLO; if it gets no answer the port is probed for a MicroPython REPL (in
    any of its modes) before the rest of the HELLO budget is spent, so a node at the REPL is
    named as such at once, never "no firmware"."""
    transport = Transport(port, baudrate=baudrate).open()
    try:
        transport.resync()
        payload = hello_payload(events)
        reply = _hello(transport, payload, HELLO_QUICK_S, 0)
        if reply is None:
            if _at_repl(transport):
                raise at_repl_error(port)
            reply = _hello(transport, payload, HELLO_TIMEOUT_S, HELLO_RETRIES)
        if reply is None:
            raise no_firmware(port, _at_repl(transport))
        return Session(transport, parse_hello(port, reply.data), events)
    except BaseException:
        transport.close()
        raise


def _hello(transport: Transport, payload: bytes, timeout: float, retries: int):
    return transport.request(
        link.T_HELLO,
        payload,
        timeout=timeout,
        retries=retries,
        resend_after=transport.quick_resend(),
    )


# Ctrl-C ends raw-paste input (the node answers \x04) and clears a raw or friendly line;
# Ctrl-B then leaves raw mode for the friendly REPL, which prints its banner and ">>> ".
# To cuenode firmware both are noise: a lone Ctrl-C does not stop a show (cuefw.handover).
REPL_PROBE = b"\x03\x02"
REPL_WAIT_S = 1.0


def _at_repl(transport: Transport) -> bool:
    """True if a MicroPython REPL (friendly, raw or raw-paste) answers on the port."""
    if transport.saw_repl_prompt():
        return True
    transport.write(REPL_PROBE)
    deadline = time.monotonic() + REPL_WAIT_S
    while time.monotonic() < deadline:
        transport.receive(0.05)  # collects raw bytes into raw_tail; no frame is expected
        if transport.saw_repl_prompt():
            return True
    return False


def at_repl_error(port: str) -> CuenodeError:
    return CuenodeError(
        f"the node on {port} is at the MicroPython REPL, not running its show",
        f"bring cuenode back with `cuenode reset --port {port}` (as after a power cut: "
        "standing by at the saved cue)",
    )


def no_firmware(port: str, at_repl: bool) -> CuenodeError:
    if at_repl:
        return at_repl_error(port)
    return CuenodeError(
        f"no cuenode firmware answered on {port}",
        f"check the cable; a board with MicroPython only needs `cuenode flash --port {port} "
        "--name NODE_ID`",
    )


def parse_hello(port: str, data: bytes) -> NodeInfo:
    if not data:
        raise CuenodeError(
            f"the node on {port} sent an empty HELLO", "flash it with `cuenode flash`"
        )
    proto = data[0]
    if proto != link.PROTOCOL_VERSION:
        raise CuenodeError(
            f"the node on {port} speaks link protocol {proto}, this cuenode speaks "
            f"{link.PROTOCOL_VERSION}",
            "update the node with `cuenode flash` (or update cuenode)",
        )
    try:
        d = json.loads(data[1:])
        return NodeInfo(
            port,
            proto,
            d["fw"],
            d["board"],
            d["node"],
            d["show"],
            d["hash"],
            d["caps"],
            d["chunk"],
            d["window"],
            d["max_show"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CuenodeError(
            f"the node on {port} sent a HELLO this cuenode cannot read ({exc})",
            "update the node with `cuenode flash`",
        ) from None


# --- show control ----------------------------------------------------------------------------


def _control(session: Session, ftype: int, payload: bytes = b"") -> dict:
    data = session.call(ftype, payload)
    return json.loads(data) if data else {}


def go(session: Session) -> dict:
    return _control(session, link.T_GO)


def back(session: Session) -> dict:
    return _control(session, link.T_BACK)


def stop(session: Session) -> dict:
    return _control(session, link.T_STOP)


def arm(session: Session) -> dict:
    return _control(session, link.T_ARM)


def disarm(session: Session) -> dict:
    return _control(session, link.T_DISARM)


def cue_thousandths(cue: str) -> int:
    """'12.25' -> 12250, the compiled show's cue numbering."""
    try:
        value = Decimal(cue)
    except InvalidOperation:
        raise CuenodeError(
            f"cue number {cue!r} is not a number", "write it like 12 or 12.25"
        ) from None
    milli = value * 1000
    if value < 0 or milli != milli.to_integral_value():
        raise CuenodeError(
            f"cue number {cue!r} is not a cue number",
            "use a positive number with at most 3 decimals, like 12.25",
        )
    return int(milli)


def goto(session: Session, cue: str) -> dict:
    return _control(session, link.T_GOTO, struct.pack("<i", cue_thousandths(cue)))


def goto_sync(session: Session, number: int) -> dict:
    """GOTO cue `number` (thousandths) unless the node is already running it: the console's
    way of keeping nodes in step ({"already": true} when nothing was done)."""
    payload = struct.pack("<iB", number, link.F_GOTO_SYNC)
    return _control(session, link.T_GOTO, payload)


@dataclass(frozen=True)
class NodeEvent:
    """One event frame from a node: its log entry number, node tick (ms), code and text."""

    number: int
    tick: int
    code: int
    a: int
    b: int

    @property
    def name(self) -> str:
        return eventlog.NAMES.get(self.code, f"event-{self.code}")

    def text(self) -> str:
        """'go: cue 5' (the node's own wording, as in `cuenode log`)."""
        line = eventlog.describe((self.tick, self.code, self.a, self.b))
        return line.split(" ", 1)[1]


def events(
    session: Session, timeout: float = 0.0, until: Callable[[], bool] | None = None
) -> list[NodeEvent]:
    """Event frames the node has sent (subscribed sessions), waiting up to `timeout` s (or
    until `until()` holds)."""
    frames = session.transport.take_events(timeout, until)
    return [NodeEvent(*link.unpack_event(f.payload)) for f in frames]


def refresh(session: Session) -> NodeInfo:
    """Ask HELLO again: identity and running show as they are now (after a push or switch)."""
    reply = session.transport.request(link.T_HELLO, hello_payload(session.events))
    if reply is None or not reply.ok:
        raise CuenodeError(
            f"{session.info.label()} is not answering",
            "check the cable; if the node rebooted, run the command again",
        )
    session.info = parse_hello(session.info.port, reply.data)
    return session.info


def status(session: Session) -> dict:
    st = json.loads(session.call(link.T_STATUS))
    info = refresh(session)
    for key, value in (
        ("node", info.node_id),
        ("fw_version", info.fw_version),
        ("board", info.board),
        ("show", info.show_name),
        ("show_hash", info.show_hash),
    ):
        st.setdefault(key, value)
    st["port"] = info.port
    return st


def log(session: Session, since: int = 0, limit: int = 10_000) -> list[list]:
    """The node's event log from entry `since`: [node time ms, text] pairs, oldest first."""
    events: list[list] = []
    while len(events) < limit:
        page = json.loads(session.call(link.T_LOG, struct.pack("<IH", since, 64)))
        events.extend(page["events"])
        if not page["events"] or page["next"] <= since:
            break
        since = page["next"]
    return events[:limit]


def request_repl(session: Session) -> None:
    """Ask the node to leave its show loop for the MicroPython REPL (for mpremote)."""
    session.call(link.T_REPL)


# --- push ------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]  # (bytes acknowledged, total)
PUSH_FLAGS = ("force_identity", "force_switch", "compress", "from_top")  # push()'s options


def deflate(blob: bytes) -> bytes:
    """Raw deflate with the small window the node inflates with (cuefw.store.WBITS)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -store.WBITS)
    return c.compress(blob) + c.flush()


def _push_begin(
    info: NodeInfo, blob: bytes, show_node: str, force_identity: bool, compress: bool
) -> tuple[bytes, bytes]:
    """What goes on the wire (deflated when the node inflates and it is shorter) and the
    PUSH_BEGIN payload that announces it."""
    flags = link.F_FORCE_IDENTITY if force_identity else 0
    wire = deflate(blob) if compress and info.caps & link.CAP_DEFLATE else blob
    if len(wire) < len(blob):
        flags |= link.F_DEFLATE
    else:
        wire = blob
    return wire, link.pack_begin(len(blob), blob[-32:], show_node, flags, len(wire))


def push(
    session: Session,
    blob: bytes,
    show_node: str,
    *,
    force_identity: bool = False,
    force_switch: bool = False,
    compress: bool = True,
    progress: Progress | None = None,
    window: int | None = None,
    from_top: bool = False,
) -> PushResult:
    """Send a compiled show, verify it on the node, and switch it in.

    The node refuses a show compiled for another node unless `force_identity`. A transfer cut
    off earlier resumes where it stopped. The show travels raw-deflated when the node can
    inflate it and that is shorter. The node keeps running its old show until the new one
    has verified; it switches at the next cue unless `force_switch`. A new version of the
    running show stands by at the same next cue (or the nearest following) unless
    `from_top`."""
    remote = getattr(session.transport, "push", None)  # through a console (node.viaconsole)
    if remote is not None:
        flags = (force_identity, force_switch, compress, from_top)
        return remote(blob, show_node, dict(zip(PUSH_FLAGS, flags, strict=True)), progress)
    info = session.info
    _check_size(info, blob, show_node)
    started = time.monotonic()
    wire, begin_payload = _push_begin(info, blob, show_node, force_identity, compress)
    for attempt in range(PUSH_RESTARTS + 1):
        try:
            begin = session.call(
                link.T_PUSH_BEGIN,
                begin_payload,
                timeout=PUSH_TIMEOUT_S,
                retries=2,  # 6 s: the node may first close a half-written transfer
                resend_after=session.transport.quick_resend(),
            )
            offset, chunk, node_window = struct.unpack_from("<IHB", begin)
            if attempt == 0:
                first_offset = offset
            sender = _WindowedSender(session, wire, chunk, window or node_window, progress)
            sender.run(offset)
            done = _commit(session, force_switch, len(blob), from_top)
            break
        except NodeRefused as exc:
            # the node restarted mid-push (power blip, a Ctrl-C/Ctrl-D a noisy line made):
            # BEGIN again, which resumes from what reached its flash
            if exc.status != link.E_NO_TRANSFER or attempt == PUSH_RESTARTS:
                raise
    return PushResult(
        show_node,
        len(blob),
        first_offset,
        time.monotonic() - started,
        bool(done.get("switched")),
        wire_bytes=len(wire),
        retransmitted=sender.retransmitted,
        position=done.get("position"),
    )


def _check_size(info: NodeInfo, blob: bytes, show_node: str) -> None:
    if len(blob) > info.max_show:
        raise CuenodeError(
            f"show for '{show_node}' is {len(blob)} bytes, {info.label()} holds "
            f"at most {info.max_show}",
            "split the show or use a bigger board",
        )


def _commit(session: Session, force_switch: bool, size: int, from_top: bool = False) -> dict:
    """PUSH_COMMIT until the node has inflated, verified and switched in the show: it answers
    {"busy": true} after each slice of work, so its own loop keeps running meanwhile."""
    flags = bytes(
        [(link.F_FORCE_SWITCH if force_switch else 0) | (link.F_FROM_TOP if from_top else 0)]
    )
    for _ in range(size // 512 + 100):
        done = json.loads(
            session.call(
                link.T_PUSH_COMMIT,
                flags,
                timeout=COMMIT_TIMEOUT_S,
                retries=3,
                resend_after=COMMIT_RESEND_S,
            )
        )
        if not done.get("busy"):
            return done
    raise CuenodeError(
        f"{session.info.label()} never finished verifying the show", "run the push again"
    )


class _WindowedSender:
    """Go-back-N: up to `window` chunks in flight; a gap or a timeout resends from the first
    byte the node has not acknowledged."""

    def __init__(
        self, session: Session, blob: bytes, chunk: int, window: int, progress: Progress | None
    ) -> None:
        self.t = session.transport
        self.session = session
        self.blob = blob
        self.chunk = self.full_chunk = chunk
        self.window = max(1, window)
        self.progress = progress
        self.inflight: dict[int, int] = {}  # seq -> chunk offset
        self.acked = 0
        self.next_off = 0
        self.retransmitted = 0

    def run(self, offset: int) -> None:
        """Gives up only after PUSH_TIMEOUT_S * (PUSH_RETRIES + 1) without progress. Each
        lost or damaged answer halves the chunk (down to MIN_CHUNK): on a noisy line a 4 KB
        frame almost never arrives whole, a 64-byte one mostly does."""
        self.acked = self.next_off = offset
        stalled_since = time.monotonic()
        while self.acked < len(self.blob):
            self._fill_window()
            frame = self.t.receive(self._answer_wait())
            if frame is None:
                stall_s = PUSH_TIMEOUT_S * (PUSH_RETRIES + 1) * transport_mod.TIME_SCALE
                if time.monotonic() - stalled_since > stall_s:
                    raise CuenodeError(
                        f"{self.session.info.label()} stopped answering during "
                        f"the push ({self.acked} of {len(self.blob)} bytes)",
                        "run the push again: it resumes where it stopped",
                    )
                self.chunk = max(MIN_CHUNK, self.chunk // 2)
                time.sleep(0.005)  # let the damaged tail drain before resending
                self.t.write(bytes([link.END]))
                self._go_back(self.acked)
                continue
            before = self.acked
            self._handle(frame)
            if self.acked > before:
                stalled_since = time.monotonic()

    def _answer_wait(self) -> float:
        """Silence this long means a chunk or its answer was lost. At full chunk size an
        answer may wait behind a window of chunks and a flash write; once the line has shown
        itself noisy (chunk reduced) the window is small and a loss is far more likely."""
        if self.chunk >= self.full_chunk:
            return PUSH_TIMEOUT_S
        wire_s = self.window * (self.chunk + 16) * 10 / max(self.t.baudrate, 9600)
        return min(PUSH_TIMEOUT_S, NOISY_RESEND_S + wire_s)

    def _fill_window(self) -> None:
        while len(self.inflight) < self.window and self.next_off < len(self.blob):
            off = self.next_off
            payload = struct.pack("<I", off) + self.blob[off : off + self.chunk]
            seq = self.t.send(link.T_PUSH_CHUNK, payload)
            self.inflight[seq] = off
            self.next_off = min(len(self.blob), off + self.chunk)

    def _handle(self, frame: link.Frame) -> bool:
        if frame.ftype != link.T_PUSH_CHUNK | link.RESPONSE or frame.seq not in self.inflight:
            return False  # a stale answer to a chunk from before a go-back
        del self.inflight[frame.seq]
        status, data = frame.payload[0], bytes(frame.payload[1:])
        if status == link.OK:
            received = struct.unpack_from("<I", data)[0]
            if received > self.acked:
                self.acked = received
                if self.progress:
                    self.progress(self.acked, len(self.blob))
            return True
        if status == link.E_OFFSET:
            self._go_back(struct.unpack_from("<I", data)[0])
            return True
        raise refusal(self.session.info, status, data)

    def _go_back(self, offset: int) -> None:
        self.retransmitted += max(0, self.next_off - offset)
        self.inflight.clear()
        self.acked = max(self.acked, offset) if offset <= len(self.blob) else self.acked
        self.next_off = self.acked
