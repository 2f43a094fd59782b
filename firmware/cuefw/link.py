# Link framing: the one implementation of the serial protocol, shared by the node and the host.
# Spec: docs/protocol.md. Pure: no hardware, no clock.
#
# A frame on the wire is   stuff(type, seq, payload, crc32) END
#   type     u8   request type; a response has RESPONSE (0x80) set
#   seq      u16  little-endian, chosen by the host, echoed in the response
#   payload  0..MAX_PAYLOAD bytes (a response payload starts with a status byte)
#   crc32    u32  little-endian, binascii.crc32 over type+seq+payload
#
# Byte stuffing: END (0xC0), ESC (0xDB) and the REPL control bytes 0x01..0x04 (Ctrl-A..Ctrl-D)
# never appear inside a frame: each is sent as ESC, byte ^ 0x20. So a Ctrl-C (0x03) on the line
# is always a real Ctrl-C from a person or mpremote, never part of binary traffic, and the node
# can leave keyboard interrupts enabled all the time (see docs/protocol.md, "REPL").
import struct

from cuefw.compat import const

try:
    from binascii import crc32
except ImportError:  # ports built without binascii.crc32: the same CRC in Python
    _CRC_TABLE = None

    def _crc_table():
        table = []
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            table.append(c)
        return table

    def crc32(data, crc=0):
        global _CRC_TABLE
        if _CRC_TABLE is None:
            _CRC_TABLE = _crc_table()
        table = _CRC_TABLE
        crc = crc ^ 0xFFFFFFFF
        for b in data:
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF


PROTOCOL_VERSION = const(1)

# END and ESC are SLIP's values: rare in compiled shows, whose bytes are half zeros (stuffing
# 0x00 would make an uncompressed show 1.5x longer on the wire).
END = const(0xC0)
ESC = const(0xDB)
ESC_XOR = const(0x20)
# Bytes that are stuffed: Ctrl-A..Ctrl-D (raw REPL / interrupt / soft reset), END, ESC.
SPECIAL = b"\x01\x02\x03\x04\xc0\xdb"
_END_BYTE = b"\xc0"
_ESC_BYTE = b"\xdb"

HEADER_LEN = const(3)  # type + seq
CRC_LEN = const(4)
MAX_PAYLOAD = const(4096 + 8)  # a 4 KB chunk plus its offset, with room to spare
MAX_FRAME = const(HEADER_LEN + MAX_PAYLOAD + CRC_LEN)  # unstuffed
MAX_WIRE = const(2 * MAX_FRAME + 1)  # worst case: every byte stuffed, plus END

RESPONSE = const(0x80)

# Request types
T_HELLO = const(0x01)
T_STATUS = const(0x02)
T_LOG = const(0x03)
T_ECHO = const(0x04)
T_GO = const(0x10)
T_BACK = const(0x11)
T_STOP = const(0x12)
T_GOTO = const(0x13)
T_ARM = const(0x14)
T_DISARM = const(0x15)
T_PUSH_BEGIN = const(0x20)
T_PUSH_CHUNK = const(0x21)
T_PUSH_COMMIT = const(0x22)
T_PUSH_ABORT = const(0x23)
T_REPL = const(0x30)
# Unsolicited: node -> host, only after the host set HELLO_EVENTS in its HELLO. Never answered.
T_EVENT = const(0x40)

# Response status (first payload byte of every response)
OK = const(0)
E_BAD_REQUEST = const(1)
E_UNKNOWN_TYPE = const(2)
E_IDENTITY = const(3)
E_TOO_LARGE = const(4)
E_HASH = const(5)
E_NO_TRANSFER = const(6)
E_OFFSET = const(7)
E_ENGINE = const(8)
E_STORAGE = const(9)
E_NO_SHOW = const(10)
E_BUSY = const(11)

# Capabilities advertised in HELLO
CAP_PUSH = const(1)
CAP_WINDOW = const(2)
CAP_RESUME = const(4)
CAP_REPL_CMD = const(8)
CAP_LOG = const(16)
CAP_DEFLATE = const(32)  # accepts raw-deflate pushes (window 2**10)
CAP_EVENTS = const(64)  # sends event frames to a host that subscribes in HELLO

# HELLO flags (the optional second byte of a HELLO request)
HELLO_EVENTS = const(1)  # send me T_EVENT frames from now on (this session)

# GOTO flags (the optional fifth byte of a GOTO request)
F_GOTO_SYNC = const(1)  # a node already running that cue (not stopped) does nothing

# PUSH_BEGIN / PUSH_COMMIT flags
F_FORCE_IDENTITY = const(1)
F_FORCE_SWITCH = const(2)
F_FROM_TOP = const(8)  # PUSH_COMMIT: start the new show at its top (not at the same cue)
F_DEFLATE = const(4)  # PUSH_BEGIN: the chunks carry the show raw-deflated

STATUS_NAMES = {
    OK: "ok",
    E_BAD_REQUEST: "bad request",
    E_UNKNOWN_TYPE: "unknown request type",
    E_IDENTITY: "wrong node",
    E_TOO_LARGE: "show too large",
    E_HASH: "hash mismatch",
    E_NO_TRANSFER: "no transfer in progress",
    E_OFFSET: "unexpected chunk offset",
    E_ENGINE: "engine refused",
    E_STORAGE: "storage error",
    E_NO_SHOW: "no show loaded",
    E_BUSY: "busy",
}


def stuff(body, out=None):
    """Byte-stuff `body` and append END. Returns a bytearray (appended to `out` if given)."""
    if out is None:
        out = bytearray()
    start = 0
    n = len(body)
    i = 0
    while i < n:
        b = body[i]
        if (0 < b <= 4) or b == END or b == ESC:
            if i > start:
                out.extend(body[start:i])
            out.append(ESC)
            out.append(b ^ ESC_XOR)
            start = i + 1
        i += 1
    if n > start:
        out.extend(body[start:n])
    out.append(END)
    return out


def unstuff_into(buf, n):
    """Undo stuffing in place on buf[:n]. Returns the new length, or -1 if an escape is bad."""
    mv = memoryview(buf)
    r = buf.find(_ESC_BYTE, 0, n)
    if r < 0:
        return n
    w = r
    while r < n:
        if buf[r] == ESC:
            if r + 1 >= n:
                return -1
            b = buf[r + 1] ^ ESC_XOR
            if not ((0 < b <= 4) or b == END or b == ESC):
                return -1
            buf[w] = b
            w += 1
            r += 2
            continue
        nxt = buf.find(_ESC_BYTE, r, n)
        if nxt < 0:
            nxt = n
        mv[w : w + nxt - r] = mv[r:nxt]
        w += nxt - r
        r = nxt
    return w


def encode(ftype, seq, payload=b"", out=None):
    """One complete wire frame (bytearray) for type/seq/payload (appended to `out` if given)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload too large")
    body = bytearray(HEADER_LEN + len(payload) + CRC_LEN)
    body[0] = ftype
    body[1] = seq & 0xFF
    body[2] = (seq >> 8) & 0xFF
    body[HEADER_LEN : HEADER_LEN + len(payload)] = payload
    crc = crc32(memoryview(body)[: HEADER_LEN + len(payload)]) & 0xFFFFFFFF
    struct.pack_into("<I", body, HEADER_LEN + len(payload), crc)
    return stuff(body, out)


def response(ftype, seq, status, data=b""):
    """A response frame: the request's type with RESPONSE set, status byte, then data."""
    payload = bytearray(1 + len(data))
    payload[0] = status
    payload[1:] = data
    return encode(ftype | RESPONSE, seq, payload)


class Frame:
    """A decoded frame. `payload` is a memoryview into the deframer's buffer: valid only until
    the next bytes are fed (copy it with bytes() to keep it)."""

    def __init__(self):
        self.ftype = 0
        self.seq = 0
        self.payload = b""


class Deframer:
    """Accumulates wire bytes and yields good frames; counts bad ones. Never raises on input.

    Counters: frames (good), crc_errors, bad_escapes, overflows (frame longer than MAX_WIRE),
    runts (shorter than a header + CRC)."""

    def __init__(self, max_wire=MAX_WIRE):
        self.buf = bytearray(max_wire)
        self.mv = memoryview(self.buf)
        self.n = 0
        self.overflow = False
        self.frame = Frame()
        self.frames = 0
        self.crc_errors = 0
        self.bad_escapes = 0
        self.overflows = 0
        self.runts = 0

    def reset(self):
        self.n = 0
        self.overflow = False

    def feed(self, data):
        """Feed bytes; returns the list of complete good Frames, payloads copied to bytes."""
        out = []
        for frame in self.feed_iter(data):
            f = Frame()
            f.ftype, f.seq, f.payload = frame.ftype, frame.seq, bytes(frame.payload)
            out.append(f)
        return out

    def feed_iter(self, data):
        """Generator over the good frames completed by `data`. The yielded Frame object and
        its payload view are reused: handle each one before asking for the next."""
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)
        start = 0
        n = len(data)
        while start < n:
            end = data.find(_END_BYTE, start)
            stop = n if end < 0 else end
            self._append(data, start, stop)
            if end < 0:
                return
            start = end + 1
            if self._finish():
                yield self.frame

    def _append(self, data, start, stop):
        if self.overflow:
            return
        k = stop - start
        if self.n + k > len(self.buf):
            self.overflow = True
            return
        self.mv[self.n : self.n + k] = memoryview(data)[start:stop]
        self.n += k

    def _finish(self):
        """A frame ended: check it. Returns True if self.frame now holds a good frame."""
        n, overflow = self.n, self.overflow
        self.n = 0
        self.overflow = False
        if overflow:
            self.overflows += 1
            return False
        if n == 0:
            return False  # an empty frame (END END) is a harmless resync marker
        n = unstuff_into(self.buf, n)
        if n < 0:
            self.bad_escapes += 1
            return False
        if n < HEADER_LEN + CRC_LEN:
            self.runts += 1
            return False
        body = n - CRC_LEN
        want = (
            self.buf[body]
            | (self.buf[body + 1] << 8)
            | (self.buf[body + 2] << 16)
            | (self.buf[body + 3] << 24)
        )
        if crc32(self.mv[:body]) & 0xFFFFFFFF != want:
            self.crc_errors += 1
            return False
        f = self.frame
        f.ftype = self.buf[0]
        f.seq = self.buf[1] | (self.buf[2] << 8)
        f.payload = self.mv[HEADER_LEN:body]
        self.frames += 1
        return True

    def errors(self):
        return self.crc_errors + self.bad_escapes + self.overflows + self.runts


# --- payload helpers shared by both ends ---------------------------------------------------


def pack_begin(size, sha, node_id, flags, wire=-1):
    """PUSH_BEGIN payload: u32 show size, 32-byte SHA-256, u8 flags, u32 bytes on the wire
    (the compressed size with F_DEFLATE, else the show size), node id (UTF-8)."""
    return struct.pack("<I32sBI", size, sha, flags, size if wire < 0 else wire) + node_id.encode()


def unpack_begin(payload):
    """(size, sha, flags, node id, wire size)"""
    if len(payload) < 41:
        raise ValueError("short PUSH_BEGIN")
    size, sha, flags, wire = struct.unpack_from("<I32sBI", payload, 0)
    return size, bytes(sha), flags, bytes(payload[41:]).decode(), wire


EVENT_FORMAT = "<IIBii"  # event number, node tick ms, code (cuefw.eventlog EV_*), a, b


def unpack_event(payload):
    """(event number, tick, code, a, b) of a T_EVENT payload."""
    return struct.unpack_from(EVENT_FORMAT, payload, 0)


def pack_chunk_head(offset):
    return struct.pack("<I", offset)
