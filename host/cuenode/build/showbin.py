"""Encoder for the compiled show format (docs/compiled-show.md).

The layout constants and the reader live in the firmware (`cuefw.showfile`); this module only
packs bytes, so the host and the node can never disagree on the format.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass, field

from cuefw import showfile as sf


@dataclass(frozen=True)
class RelayRec:
    name: str
    pin: str
    max_on_ms: int = 0  # 0: no limit
    min_off_ms: int = 0
    duty_window_ms: int = 0  # 0: no duty-cycle limit
    duty_pct: int = 100
    flags: int = 0  # sf.RELAY_REQUIRES_ARM | sf.RELAY_HAZARD


@dataclass(frozen=True)
class ButtonRec:
    pin: str
    action: int  # sf.BTN_*
    cue_index: int = sf.NO_CUE
    debounce_ms: int = 10
    stuck_s: int = 5
    flags: int = 0


@dataclass(frozen=True)
class CueRec:
    number: int  # cue number in thousandths: cue 12.25 -> 12250
    label: str = ""
    up_ms: int = 0
    down_ms: int = 0
    delay_ms: int = 0
    auto_mode: int = sf.AUTO_NONE
    auto_ms: int = 0
    curve: int = sf.CURVE_LINEAR
    changes: tuple[tuple[int, int], ...] = ()  # (parameter index, raw value), sorted
    actions: tuple[tuple[int, int, int], ...] = ()  # (relay index, sf.ACT_*, duration_ms)


@dataclass(frozen=True)
class NodeShow:
    node_id: str
    show_name: str
    params: tuple[tuple[int, int], ...]  # (coarse slot 1..512, fine slot or 0)
    base_look: tuple[int, ...]  # raw value of every parameter before the first cue
    cues: tuple[CueRec, ...]
    relays: tuple[RelayRec, ...] = ()
    buttons: tuple[ButtonRec, ...] = ()
    fault_mode: int = sf.FAULT_HOLD
    go_protect_ms: int = 500
    stop_fade_ms: int = 2000
    keyframe_every: int = 16
    flags: int = 0
    extra: dict = field(default_factory=dict, compare=False)


class EncodeError(ValueError):
    """A value does not fit the compiled format (message names the field and its limit)."""


U16 = 0xFFFF
U32 = 0xFFFFFFFF
# Times must stay inside MicroPython's ticks arithmetic (ticks_diff spans +-2**29).
MAX_MS = (1 << 29) - 1


def _check(what: str, value: int, top: int, low: int = 0) -> None:
    if not low <= value <= top:
        raise EncodeError(f"{what} is {value}; the compiled format allows {low}..{top}")


def check(show: NodeShow) -> None:
    """Raise EncodeError if any value would not fit its field."""
    _check("number of parameters", len(show.params), 512)
    _check("number of cues", len(show.cues), U16 - 1)
    _check("number of relays", len(show.relays), 255)
    _check("number of buttons", len(show.buttons), 255)
    _check("go_protect_ms", show.go_protect_ms, U16)
    _check("stop_fade_ms", show.stop_fade_ms, U16)
    _check("keyframe_every", show.keyframe_every, U16, 1)
    if len(show.base_look) != len(show.params):
        raise EncodeError("base look and parameter table differ in length")
    for coarse, fine in show.params:
        _check("parameter slot", coarse, 512, 1)
        _check("fine slot", fine, 512)
    for p, value in enumerate(show.base_look):
        _check(f"default of parameter {p}", value, U16)
    for r in show.relays:
        _check_relay(r)
    for b in show.buttons:
        _check(f"button {b.pin} cue index", b.cue_index, U16)
        _check(f"button {b.pin} debounce_ms", b.debounce_ms, U16)
        _check(f"button {b.pin} stuck_s", b.stuck_s, U16)
    for prev, c in itertools.pairwise(show.cues):
        if c.number <= prev.number:
            raise EncodeError(
                f"cue numbers must increase (find_cue binary-searches them): "
                f"{c.number / 1000:g} follows {prev.number / 1000:g}"
            )
    for c in show.cues:
        _check_cue(c, len(show.params), len(show.relays))


def _check_relay(r: RelayRec) -> None:
    for what in ("max_on_ms", "min_off_ms", "duty_window_ms"):
        _check(f"relay {r.name} {what}", getattr(r, what), MAX_MS)
    _check(f"relay {r.name} duty_pct", r.duty_pct, 100)


def _check_cue(c: CueRec, n_params: int, n_relays: int) -> None:
    _check("cue number", c.number, U32)
    for what in ("up_ms", "down_ms", "delay_ms", "auto_ms"):
        _check(f"cue {c.number / 1000:g} {what}", getattr(c, what), MAX_MS)
    for p, value in c.changes:
        _check(f"cue {c.number / 1000:g} parameter index", p, n_params - 1)
        _check(f"cue {c.number / 1000:g} value", value, U16)
    for relay, kind, ms in c.actions:
        _check(f"cue {c.number / 1000:g} relay index", relay, n_relays - 1)
        _check(f"cue {c.number / 1000:g} action", kind, sf.ACT_PULSE)
        _check(f"cue {c.number / 1000:g} pulse ms", ms, MAX_MS)


class _Strings:
    def __init__(self) -> None:
        self.data = bytearray()
        self.refs: dict[str, int] = {}

    def ref(self, text: str) -> int:
        if text not in self.refs:
            raw = text.encode()
            if len(raw) > U16:
                raise EncodeError(f"text of {len(raw)} bytes; at most {U16}: {text[:40]!r}...")
            self.refs[text] = len(self.data)
            self.data += struct.pack("<H", len(raw)) + raw
        return self.refs[text]


def looks(show: NodeShow) -> list[list[int]]:
    """The tracked look after each cue (tracking: a value holds until a later cue changes it)."""
    look = list(show.base_look)
    out = []
    for cue in show.cues:
        for param, value in cue.changes:
            look[param] = value
        out.append(list(look))
    return out


def encode(show: NodeShow) -> bytes:
    """Pack one node's show; the result ends with the SHA-256 of everything before it."""
    check(show)
    strings = _Strings()
    node_ref, name_ref = strings.ref(show.node_id), strings.ref(show.show_name)
    params = b"".join(struct.pack(sf.PARAM_FMT, c, f) for c, f in show.params)
    relays = b"".join(_pack_relay(r, strings) for r in show.relays)
    buttons = b"".join(_pack_button(b, strings) for b in show.buttons)
    look_blob = _pack_looks(show)
    cue_blobs = [_pack_cue(c, strings) for c in show.cues]

    offsets = {}
    pos = sf.HEADER_LEN
    for name, size in (
        ("params", len(params)),
        ("relays", len(relays)),
        ("buttons", len(buttons)),
        ("index", sf.INDEX_LEN * len(show.cues)),
        ("looks", len(look_blob)),
    ):
        offsets[name] = pos
        pos += size
    index = bytearray()
    for cue, blob in zip(show.cues, cue_blobs, strict=True):
        index += struct.pack(sf.INDEX_FMT, pos, cue.number)
        pos += len(blob)
    offsets["strings"] = pos
    file_len = pos + len(strings.data) + sf.HASH_LEN
    header = struct.pack(
        sf.HEADER_FMT,
        sf.MAGIC,
        sf.FORMAT_VERSION,
        sf.HEADER_LEN,
        file_len,
        len(show.params),
        len(show.cues),
        len(show.relays),
        len(show.buttons),
        show.fault_mode,
        show.flags,
        show.go_protect_ms,
        show.keyframe_every,
        offsets["params"],
        offsets["relays"],
        offsets["buttons"],
        offsets["index"],
        offsets["looks"],
        offsets["strings"],
        node_ref,
        name_ref,
        max((len(c.changes) for c in show.cues), default=0),
        max((len(c.actions) for c in show.cues), default=0),
        show.stop_fade_ms,
    )
    body = header + params + relays + buttons + bytes(index) + look_blob
    body += b"".join(cue_blobs) + bytes(strings.data)
    assert len(body) + sf.HASH_LEN == file_len
    return body + hashlib.sha256(body).digest()


def _pack_relay(r: RelayRec, strings: _Strings) -> bytes:
    return struct.pack(
        sf.RELAY_FMT,
        strings.ref(r.name),
        strings.ref(r.pin),
        r.max_on_ms,
        r.min_off_ms,
        r.duty_window_ms,
        r.duty_pct,
        r.flags,
    )


def _pack_button(b: ButtonRec, strings: _Strings) -> bytes:
    return struct.pack(
        sf.BUTTON_FMT, strings.ref(b.pin), b.action, b.flags, b.cue_index, b.debounce_ms, b.stuck_s
    )


def _pack_looks(show: NodeShow) -> bytes:
    """Base look, then a keyframe (full look) after every `keyframe_every`-th cue."""
    fmt = f"<{len(show.params)}H"
    blob = struct.pack(fmt, *show.base_look)
    for k, look in enumerate(looks(show)):
        if k % show.keyframe_every == 0:
            blob += struct.pack(fmt, *look)
    return blob


def _pack_cue(c: CueRec, strings: _Strings) -> bytes:
    head = struct.pack(
        sf.CUE_FMT,
        c.number,
        strings.ref(c.label),
        c.up_ms,
        c.down_ms,
        c.delay_ms,
        c.auto_ms,
        c.auto_mode,
        c.curve,
        len(c.changes),
        len(c.actions),
    )
    changes = b"".join(struct.pack(sf.CHANGE_FMT, p, v) for p, v in c.changes)
    actions = b"".join(struct.pack(sf.ACTION_FMT, r, k, 0, ms) for r, k, ms in c.actions)
    return head + changes + actions
