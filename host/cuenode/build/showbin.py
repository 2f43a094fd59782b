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
class PartRec:
    """A cue part: some of a cue's changes with timing of their own."""

    changes: tuple[tuple[int, int], ...]  # (parameter index, raw value), sorted
    up_ms: int = 0
    down_ms: int = 0
    delay_ms: int = 0
    curve: int = sf.CURVE_LINEAR


@dataclass(frozen=True)
class EffectRec:
    """A looping effect: value = cue value + offset + size x wave(cycle position + phase)."""

    shape: int  # sf.FX_*
    period_ms: int
    size: int  # raw, peak to peak
    offset: int = 0  # raw, signed
    width: int = 32768  # square: high while the position is below this (65536ths)
    members: tuple[tuple[int, int], ...] = ()  # (parameter index, phase in 65536ths)


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
    parts: tuple[PartRec, ...] = ()  # changes with their own timing (after `changes`)
    effects: int = 0  # bit k: effect k runs after this cue (the full set, not a change)

    @property
    def all_changes(self) -> tuple[tuple[int, int], ...]:
        """The changes as stored: the cue's own, then each part's."""
        return self.changes + tuple(ch for part in self.parts for ch in part.changes)


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
    effects: tuple[EffectRec, ...] = ()
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
        if c.effects >> len(show.effects):
            raise EncodeError(f"cue {c.number / 1000:g} starts an effect the node does not have")
    _check("number of effects", len(show.effects), sf.MAX_EFFECTS)
    _check("effect members", sum(len(e.members) for e in show.effects), U16)
    for k, e in enumerate(show.effects):
        _check_effect(k, e, len(show.params))


def _check_relay(r: RelayRec) -> None:
    for what in ("max_on_ms", "min_off_ms", "duty_window_ms"):
        _check(f"relay {r.name} {what}", getattr(r, what), MAX_MS)
    _check(f"relay {r.name} duty_pct", r.duty_pct, 100)


def _check_cue(c: CueRec, n_params: int, n_relays: int) -> None:
    _check("cue number", c.number, U32)
    for what in ("up_ms", "down_ms", "delay_ms", "auto_ms"):
        _check(f"cue {c.number / 1000:g} {what}", getattr(c, what), MAX_MS)
    _check(f"cue {c.number / 1000:g} parts", len(c.parts), sf.MAX_PARTS)
    for part in c.parts:
        for what in ("up_ms", "down_ms", "delay_ms"):
            _check(f"cue {c.number / 1000:g} part {what}", getattr(part, what), MAX_MS)
        _check(f"cue {c.number / 1000:g} part changes", len(part.changes), U16, 1)
    params = [p for p, _ in c.all_changes]
    if len(set(params)) != len(params):
        raise EncodeError(f"cue {c.number / 1000:g} changes a parameter twice (cue and a part)")
    for p, value in c.all_changes:
        _check(f"cue {c.number / 1000:g} parameter index", p, n_params - 1)
        _check(f"cue {c.number / 1000:g} value", value, U16)
    for relay, kind, ms in c.actions:
        _check(f"cue {c.number / 1000:g} relay index", relay, n_relays - 1)
        _check(f"cue {c.number / 1000:g} action", kind, sf.ACT_PULSE)
        _check(f"cue {c.number / 1000:g} pulse ms", ms, MAX_MS)


def _check_effect(k: int, e: EffectRec, n_params: int) -> None:
    _check(f"effect {k} shape", e.shape, sf.FX_SQUARE)
    _check(f"effect {k} period_ms", e.period_ms, MAX_MS, 1)
    _check(f"effect {k} size", e.size, U16)
    _check(f"effect {k} offset", e.offset, U16, -U16)
    _check(f"effect {k} width", e.width, 65536)
    for p, phase in e.members:
        _check(f"effect {k} parameter index", p, n_params - 1)
        _check(f"effect {k} phase", phase, U16)


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
        for param, value in cue.all_changes:
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
    effects = b"".join(_pack_effect(e) for e in show.effects)

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
    offsets["effects"] = pos
    pos += len(effects)
    offsets["strings"] = pos
    file_len = pos + len(strings.data) + sf.HASH_LEN
    header = _pack_header(show, file_len, offsets, node_ref, name_ref)
    body = header + params + relays + buttons + bytes(index) + look_blob
    body += b"".join(cue_blobs) + effects + bytes(strings.data)
    assert len(body) + sf.HASH_LEN == file_len
    return body + hashlib.sha256(body).digest()


def _pack_header(
    show: NodeShow, file_len: int, offsets: dict[str, int], node_ref: int, name_ref: int
) -> bytes:
    return struct.pack(
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
        max((len(c.all_changes) for c in show.cues), default=0),
        max((len(c.actions) for c in show.cues), default=0),
        show.stop_fade_ms,
        offsets["effects"],
        len(show.effects),
        max((len(c.parts) for c in show.cues), default=0),
        sum(len(e.members) for e in show.effects),
    )


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
        len(c.all_changes),
        len(c.actions),
        len(c.parts),
        c.effects,
    )
    changes = b"".join(struct.pack(sf.CHANGE_FMT, p, v) for p, v in c.all_changes)
    actions = b"".join(struct.pack(sf.ACTION_FMT, r, k, 0, ms) for r, k, ms in c.actions)
    parts = b"".join(
        struct.pack(sf.PART_FMT, len(p.changes), p.curve, 0, p.delay_ms, p.up_ms, p.down_ms)
        for p in c.parts
    )
    return head + changes + actions + parts


def _pack_effect(e: EffectRec) -> bytes:
    head = struct.pack(
        sf.EFFECT_FMT, e.shape, 0, len(e.members), e.period_ms, e.size, e.offset, e.width
    )
    return head + b"".join(struct.pack(sf.MEMBER_FMT, p, ph) for p, ph in e.members)
