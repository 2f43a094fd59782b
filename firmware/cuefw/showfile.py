# Compiled show: the one binary format shared by the host compiler and the node.
# Layout (all little-endian) is specified in docs/compiled-show.md. The reader streams from an
# open file: only the header and one cue at a time are in RAM, so a 1,000-cue show fits a Pico.
#
# Speed (GO latency): a cue's changes are (param u16, value u16) little-endian pairs and a look
# is n_params little-endian u16s. On a little-endian machine (RP2040, ESP32, x86, WebAssembly:
# every target this firmware has) those bytes ARE an array("H") in memory, so the reader fills
# the caller's array with one readinto and no per-value Python work. A big-endian machine
# (sys.byteorder "big") decodes through the scratch buffer with shifts instead: same result,
# slower. Both paths are tested (ShowReader.native = False forces the portable one).
import struct
import sys
from array import array

from cuefw import loops
from cuefw.compat import const

MAGIC = b"CNSH"
FORMAT_VERSION = const(2)  # 2: cue parts, effects (docs/compiled-show.md)
HASH_LEN = const(32)

HEADER_FMT = "<4sHHIHHBBBBHHIIIIIIIIHHH2xIBBH"
HEADER_LEN = const(72)
PARAM_FMT = "<HH"  # coarse slot (1..512), fine slot (0 = 8-bit parameter)
PARAM_LEN = const(4)
RELAY_FMT = "<IIIIIBB2x"  # name, pin, max_on_ms, min_off_ms, duty_window_ms, duty_pct, flags
RELAY_LEN = const(24)
BUTTON_FMT = "<IBBHHH"  # pin, action, flags, cue index, debounce_ms, stuck_s
BUTTON_LEN = const(12)
INDEX_FMT = "<II"  # record offset, cue number in thousandths
INDEX_LEN = const(8)
# number, label, up, down, delay, auto_ms, auto_mode, curve, n_ch, n_act, n_parts, effects
CUE_FMT = "<IIIIIIBBHHHI"
CUE_LEN = const(36)
CHANGE_FMT = "<HH"  # parameter index, raw value (0..255 or 0..65535 for 16-bit)
CHANGE_LEN = const(4)
ACTION_FMT = "<BBHI"  # relay index, action, reserved, duration_ms
ACTION_LEN = const(8)
PART_FMT = "<HBBIII"  # n_changes, curve, reserved, delay_ms, up_ms, down_ms
PART_LEN = const(16)
EFFECT_FMT = "<BBHIiiI"  # shape, reserved, n_members, period_ms, size, offset, width
EFFECT_LEN = const(20)
MEMBER_FMT = "<HH"  # parameter index, phase (65536ths of a cycle)
MEMBER_LEN = const(4)
MAX_EFFECTS = const(32)  # a cue's effect set is a 32-bit mask
MAX_PARTS = const(8)  # parts per cue besides the cue's own timing
CUE_N_CHANGES_AT = const(26)  # offset of n_changes inside a cue record
SCRATCH_LEN = const(256)  # the reader's read buffers: records; 64 changes or 128 look values
VERIFY_BLOCK = const(512)  # verify() hashes the file in blocks of this size
NATIVE_LE = sys.byteorder == "little"  # file layout == memory layout of array("H")

# Enumerations (shared with the host compiler)
FAULT_HOLD = const(0)
FAULT_BLACKOUT = const(1)
AUTO_NONE = const(0)
AUTO_FOLLOW = const(1)  # continue auto_ms after this cue's GO
AUTO_HANG = const(2)  # continue auto_ms after this cue's fade completes
CURVE_LINEAR = const(0)
CURVE_SCURVE = const(1)
ACT_OFF = const(0)
ACT_ON = const(1)
ACT_PULSE = const(2)
BTN_GO = const(1)
BTN_BACK = const(2)
BTN_STOP = const(3)
BTN_FIRE = const(4)
RELAY_REQUIRES_ARM = const(1)
RELAY_HAZARD = const(2)
FX_SINE = const(0)
FX_RAMP = const(1)
FX_SQUARE = const(2)  # high while the cycle position is below `width` (chases: 1/steps)
NO_CUE = const(0xFFFF)


class ShowError(Exception):
    pass


# The replay loop of _apply_changes: native where it passed loops' self-check. Chosen at
# import, so opening a show allocates nothing for it (no import attempt, no self-check).
REPLAY = loops.choose().apply_changes
_NO_PARTS = bytearray(0)  # len 0: read_cue refuses a cue with parts for a Cue without room
PART_WORDS = const(5)


class Cue:
    """One cue record, filled in place by ShowReader.read_cue (no allocation per cue)."""

    def __init__(self, max_changes, max_actions, max_parts=0):
        self.index = -1
        self.number = 0
        self.label_ref = 0
        self.up_ms = 0
        self.down_ms = 0
        self.delay_ms = 0
        self.auto_ms = 0
        self.auto_mode = AUTO_NONE
        self.curve = CURVE_LINEAR
        self.n_changes = 0
        self.n_actions = 0
        # Interleaved, as in the file: changes[2k] = parameter index, changes[2k + 1] = raw
        # value of change k (k < n_changes). One readinto fills it; see param()/value().
        self.changes = array("H", bytes(4 * max(1, max_changes)))
        self.action_relay = bytearray(max(1, max_actions))
        self.action_kind = bytearray(max(1, max_actions))
        self.action_ms = array("I", bytes(4 * max(1, max_actions)))
        # Cue parts: the changes are in runs, the cue's own first (n_changes minus the
        # parts' changes), then part 0's, part 1's ... each run sorted by parameter.
        self.n_parts = 0
        # part k: parts[PART_WORDS * k + 0..4] = n_changes, curve, delay_ms, up_ms, down_ms
        self.parts = array("I", bytes(4 * PART_WORDS * max_parts)) if max_parts else _NO_PARTS
        self.effects = 0  # bit k: effect k of the node's table runs after this cue

    def param(self, k):
        """Parameter index of change k."""
        return self.changes[2 * k]

    def value(self, k):
        """Raw target value of change k."""
        return self.changes[2 * k + 1]


class ShowReader:
    """Random access to a compiled show in an open binary file (seek/read/readinto)."""

    def __init__(self, f):
        self.f = f
        head = self._read_at(0, HEADER_LEN)
        if len(head) < 8 or head[:4] != MAGIC:
            raise ShowError("not a compiled cuenode show")
        version = head[4] | (head[5] << 8)
        if version != FORMAT_VERSION:  # before unpacking: the header's size is per version
            raise ShowError(
                "compiled show format %d, this firmware reads %d: recompile the show with "
                "the cuenode that flashed this node, or update the node" % (version, FORMAT_VERSION)
            )
        if len(head) < HEADER_LEN:
            raise ShowError("not a compiled cuenode show")
        (
            _,
            _,
            header_len,
            self.file_len,
            self.n_params,
            self.n_cues,
            self.n_relays,
            self.n_buttons,
            self.fault_mode,
            self.flags,
            self.go_protect_ms,
            self.keyframe_every,
            self.params_off,
            self.relays_off,
            self.buttons_off,
            self.index_off,
            self.looks_off,
            self.strings_off,
            node_ref,
            name_ref,
            self.max_changes,
            self.max_actions,
            self.stop_fade_ms,
            self.effects_off,
            self.n_effects,
            self.max_parts,
            self.n_members,
        ) = struct.unpack(HEADER_FMT, head)
        self.version = version
        if header_len != HEADER_LEN:
            raise ShowError(
                "compiled show header of %d bytes, expected %d" % (header_len, HEADER_LEN)
            )
        self._buf = bytearray(SCRATCH_LEN)
        self._mv = memoryview(self._buf)
        self._words = array("H", bytes(SCRATCH_LEN))  # a block of changes, for read_look
        self.native = NATIVE_LE  # False: decode byte by byte (big-endian machines, tests)
        self.scatter = REPLAY  # the replay loop of _apply_changes (see REPLAY)
        self.node_id = self.string(node_ref)
        self.show_name = self.string(name_ref)

    def _read_at(self, offset, n):
        self.f.seek(offset)
        return self.f.read(n)

    def string(self, ref):
        self.f.seek(self.strings_off + ref)
        buf = self._read_into(2)
        n = buf[0] | (buf[1] << 8)
        raw = self.f.read(n)
        if len(raw) != n:
            raise ShowError("compiled show is truncated")
        return raw.decode()

    def _record(self, fmt, offset, size):
        self.f.seek(offset)
        return struct.unpack_from(fmt, self._read_into(size))

    def param(self, i):
        """(coarse slot, fine slot or 0)"""
        return self._record(PARAM_FMT, self.params_off + i * PARAM_LEN, PARAM_LEN)

    def relay(self, i):
        """(name, pin, max_on_ms, min_off_ms, duty_window_ms, duty_pct, flags)"""
        rec = self._record(RELAY_FMT, self.relays_off + i * RELAY_LEN, RELAY_LEN)
        return (self.string(rec[0]), self.string(rec[1])) + rec[2:]

    def button(self, i):
        """(pin, action, flags, cue_index, debounce_ms, stuck_s)"""
        rec = self._record(BUTTON_FMT, self.buttons_off + i * BUTTON_LEN, BUTTON_LEN)
        return (self.string(rec[0]),) + rec[1:]

    def _read_into(self, n):
        """Read the next n bytes (n <= SCRATCH_LEN) into the reader's scratch buffer."""
        got = self.f.readinto(self._mv[:n]) if n < SCRATCH_LEN else self.f.readinto(self._buf)
        if got != n:
            raise ShowError("compiled show is truncated")
        return self._buf

    def _index(self, i):
        return self._record(INDEX_FMT, self.index_off + i * INDEX_LEN, INDEX_LEN)

    def cue_number(self, i):
        return self._index(i)[1]

    def find_cue(self, number):
        """Index of the cue numbered `number` (thousandths), or -1. Binary search on flash."""
        lo, hi = 0, self.n_cues - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            n = self.cue_number(mid)
            if n == number:
                return mid
            if n < number:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def label(self, i):
        self.f.seek(self._index(i)[0] + 4)
        (ref,) = struct.unpack_from("<I", self._read_into(4))
        return self.string(ref)

    def read_cue(self, i, cue):
        """Fill `cue` with cue i's timing, its parameter changes and relay actions."""
        if not 0 <= i < self.n_cues:
            raise ShowError("no cue index %d" % i)
        self.f.seek(self._index(i)[0])
        (
            cue.number,
            cue.label_ref,
            cue.up_ms,
            cue.down_ms,
            cue.delay_ms,
            cue.auto_ms,
            cue.auto_mode,
            cue.curve,
            cue.n_changes,
            cue.n_actions,
            cue.n_parts,
            cue.effects,
        ) = struct.unpack_from(CUE_FMT, self._read_into(CUE_LEN))
        if (
            2 * cue.n_changes > len(cue.changes)
            or cue.n_actions > len(cue.action_kind)
            or PART_WORDS * cue.n_parts > len(cue.parts)
        ):
            raise ShowError(
                "cue %d needs a Cue(%d, %d, %d)" % (i, cue.n_changes, cue.n_actions, cue.n_parts)
            )
        cue.index = i
        if cue.n_changes:
            self._read_words(cue.changes, 2 * cue.n_changes)
        self._read_actions(cue)
        self._read_parts(cue)
        return cue

    def _read_parts(self, cue):
        parts = cue.parts
        for k in range(cue.n_parts):
            n, curve, _, delay, up, down = struct.unpack_from(PART_FMT, self._read_into(PART_LEN))
            at = PART_WORDS * k
            parts[at] = n
            parts[at + 1] = curve
            parts[at + 2] = delay
            parts[at + 3] = up
            parts[at + 4] = down

    def effect(self, k, members):
        """Effect k of the table: (shape, period_ms, size, offset, width, n_members); its
        members (parameter index, phase) go into members[2j], members[2j + 1] from 0.
        Effects are read once, at load: records are walked from the first."""
        if not 0 <= k < self.n_effects:
            raise ShowError("no effect %d" % k)
        pos = self.effects_off
        for _ in range(k + 1):
            self.f.seek(pos)
            shape, _, n, period, size, offset, width = struct.unpack_from(
                EFFECT_FMT, self._read_into(EFFECT_LEN)
            )
            pos += EFFECT_LEN + n * MEMBER_LEN
        if 2 * n > len(members):
            raise ShowError("effect %d has %d members, room for %d" % (k, n, len(members) // 2))
        if n:
            self._read_words(members, 2 * n)
        return shape, period, size, offset, width, n

    def _read_words(self, out, n):
        """Read the next n little-endian u16s into out[0:n] (an array("H"))."""
        if self.native:  # the bytes are the array: one readinto
            got = self.f.readinto(out if n == len(out) else memoryview(out)[:n])
            if got != 2 * n:
                raise ShowError("compiled show is truncated")
            return
        done = 0
        while done < n:
            m = min(SCRATCH_LEN // 2, n - done)
            buf = self._read_into(2 * m)
            for k in range(m):
                out[done + k] = buf[2 * k] | (buf[2 * k + 1] << 8)
            done += m

    def _apply_changes(self, n_changes, out):
        """Read the next n_changes changes and write each value into out[param] (a tracked
        look), in blocks of 64 through the reader's word buffer: no allocation."""
        words = self._words
        scatter = self.scatter
        done = 0
        while done < n_changes:
            m = min(SCRATCH_LEN // 4, n_changes - done)
            self._read_words(words, 2 * m)
            scatter(words, m, out, len(out))
            done += m

    def _read_actions(self, cue):
        for k in range(cue.n_actions):
            buf = self._read_into(ACTION_LEN)
            cue.action_relay[k] = buf[0]
            cue.action_kind[k] = buf[1]
            cue.action_ms[k] = buf[4] | (buf[5] << 8) | (buf[6] << 16) | (buf[7] << 24)

    def read_look(self, i, out):
        """Fill `out` (an array("H") of at least n_params) with the tracked look after cue i;
        i = -1: the base look.

        Looks are stored every `keyframe_every` cues; the cues in between are replayed."""
        if not -1 <= i < self.n_cues:
            raise ShowError("no cue index %d" % i)
        if len(out) < self.n_params:
            raise ShowError("look array holds %d of %d parameters" % (len(out), self.n_params))
        if i < 0:
            self._read_look_at(self.looks_off, out)
            return out
        k = i // self.keyframe_every
        self._read_look_at(self.looks_off + 2 * self.n_params * (k + 1), out)
        for j in range(k * self.keyframe_every + 1, i + 1):
            self.f.seek(self._index(j)[0] + CUE_N_CHANGES_AT)
            buf = self._read_into(CUE_LEN - CUE_N_CHANGES_AT)  # to the end of the cue header
            self._apply_changes(buf[0] | (buf[1] << 8), out)
        return out

    def _read_look_at(self, offset, out):
        self.f.seek(offset)
        if self.n_params:
            self._read_words(out, self.n_params)


def verify(f, sha256):
    """True if the file's trailing SHA-256 matches its content. Streams in 512-byte blocks
    through one preallocated buffer (readinto), so hashing a 150 KB show allocates ~1 KB.

    `sha256` is the hash constructor (hashlib.sha256 on both CPython and MicroPython)."""
    f.seek(0)
    head = f.read(HEADER_LEN)
    if len(head) < HEADER_LEN or head[:4] != MAGIC:
        return False
    file_len = struct.unpack_from("<I", head, 8)[0]
    h = sha256()
    h.update(head)
    remaining = file_len - HASH_LEN - HEADER_LEN
    if remaining < 0:
        return False
    block = bytearray(VERIFY_BLOCK)
    view = memoryview(block)
    while remaining >= VERIFY_BLOCK:
        if f.readinto(block) != VERIFY_BLOCK:
            return False
        h.update(block)
        remaining -= VERIFY_BLOCK
    if remaining and f.readinto(view[:remaining]) != remaining:
        return False
    if remaining:
        h.update(view[:remaining])
    return f.read(HASH_LEN) == h.digest() and f.read(1) == b""


def content_hash(f):
    """The SHA-256 stored in the trailer (bytes), as the node reports it."""
    f.seek(0)
    head = f.read(HEADER_LEN)
    file_len = struct.unpack_from("<I", head, 8)[0]
    f.seek(file_len - HASH_LEN)
    return f.read(HASH_LEN)
