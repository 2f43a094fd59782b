"""Encoder for the compiled show format (docs/compiled-show.md).

The layout constants and the reader live in the firmware (`cuefw.showfile`); this module only
packs bytes, so the host and the node can never disagree on the format.
"""

from __future__ import annotations

import hashlib
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


class _Strings:
    def __init__(self) -> None:
        self.data = bytearray()
        self.refs: dict[str, int] = {}

    def ref(self, text: str) -> int:
        if text not in self.refs:
            raw = text.encode()
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
    strings = _Strings()
    node_ref, name_ref = strings.ref(show.node_id), strings.ref(show.show_name)
    params = b"".join(struct.pack(sf.PARAM_FMT, c, f) for c, f in show.params)
    relays = b"".join(_pack_relay(r, strings) for r in show.relays)
    buttons = b"".join(_pack_button(b, strings) for b in show.buttons)
    look_blob = _pack_looks(show)
    cue_blobs = [_pack_cue(c, strings) for c in show.cues]

    offsets = {}
    pos = sf.HEADER_LEN
    for name, size in (("params", len(params)), ("relays", len(relays)),
                       ("buttons", len(buttons)), ("index", sf.INDEX_LEN * len(show.cues)),
                       ("looks", len(look_blob))):
        offsets[name] = pos
        pos += size
    index = bytearray()
    for cue, blob in zip(show.cues, cue_blobs, strict=True):
        index += struct.pack(sf.INDEX_FMT, pos, cue.number)
        pos += len(blob)
    offsets["strings"] = pos
    file_len = pos + len(strings.data) + sf.HASH_LEN
    header = struct.pack(
        sf.HEADER_FMT, sf.MAGIC, sf.FORMAT_VERSION, sf.HEADER_LEN, file_len, len(show.params),
        len(show.cues), len(show.relays), len(show.buttons), show.fault_mode, show.flags,
        show.go_protect_ms, show.keyframe_every, offsets["params"], offsets["relays"],
        offsets["buttons"], offsets["index"], offsets["looks"], offsets["strings"], node_ref,
        name_ref, max((len(c.changes) for c in show.cues), default=0),
        max((len(c.actions) for c in show.cues), default=0), show.stop_fade_ms)
    body = header + params + relays + buttons + bytes(index) + look_blob
    body += b"".join(cue_blobs) + bytes(strings.data)
    assert len(body) + sf.HASH_LEN == file_len
    return body + hashlib.sha256(body).digest()


def _pack_relay(r: RelayRec, strings: _Strings) -> bytes:
    return struct.pack(sf.RELAY_FMT, strings.ref(r.name), strings.ref(r.pin), r.max_on_ms,
                       r.min_off_ms, r.duty_window_ms, r.duty_pct, r.flags)


def _pack_button(b: ButtonRec, strings: _Strings) -> bytes:
    return struct.pack(sf.BUTTON_FMT, strings.ref(b.pin), b.action, b.flags, b.cue_index,
                       b.debounce_ms, b.stuck_s)


def _pack_looks(show: NodeShow) -> bytes:
    """Base look, then a keyframe (full look) after every `keyframe_every`-th cue."""
    fmt = f"<{len(show.params)}H"
    blob = struct.pack(fmt, *show.base_look)
    for k, look in enumerate(looks(show)):
        if k % show.keyframe_every == 0:
            blob += struct.pack(fmt, *look)
    return blob


def _pack_cue(c: CueRec, strings: _Strings) -> bytes:
    head = struct.pack(sf.CUE_FMT, c.number, strings.ref(c.label), c.up_ms, c.down_ms,
                       c.delay_ms, c.auto_ms, c.auto_mode, c.curve, len(c.changes),
                       len(c.actions))
    changes = b"".join(struct.pack(sf.CHANGE_FMT, p, v) for p, v in c.changes)
    actions = b"".join(struct.pack(sf.ACTION_FMT, r, k, 0, ms) for r, k, ms in c.actions)
    return head + changes + actions
