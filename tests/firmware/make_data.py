"""Build the compiled-show fixtures the firmware tests open (CPython only).

The firmware tests in this folder also run under MicroPython, which cannot import the host
package, so they read prebuilt `.cnshow` files from `data/`. This script writes them with the
host encoder (`cuenode.build.showbin`), the one implementation of the format.
`tests/firmware_props/test_fixtures_current.py` fails if a committed file is out of date.

    .venv/bin/python tests/firmware/make_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from cuefw import showfile as sf
from cuenode.build.showbin import (
    ButtonRec,
    CueRec,
    EffectRec,
    NodeShow,
    PartRec,
    RelayRec,
    encode,
)

DATA = Path(__file__).resolve().parent / "data"

# fade.cnshow: p0 slot 1, p1 slot 2, p2 16-bit slots 3/4, p3 slot 5. Base look all 0.
FADE = NodeShow(
    node_id="fade",
    show_name="fade timing",
    params=((1, 0), (2, 0), (3, 4), (5, 0)),
    base_look=(0, 0, 0, 0),
    go_protect_ms=500,
    stop_fade_ms=2000,
    cues=(
        CueRec(1000, "up 1s down 2s", up_ms=1000, down_ms=2000, changes=((0, 255), (2, 65535))),
        CueRec(
            2000,
            "delay .5 up 3 down 2",
            up_ms=3000,
            down_ms=2000,
            delay_ms=500,
            changes=((0, 0), (1, 200)),
        ),
        CueRec(
            3000,
            "s-curve 1s",
            up_ms=1000,
            down_ms=1000,
            curve=sf.CURVE_SCURVE,
            changes=((0, 255), (3, 255)),
        ),
        CueRec(4000, "snap", changes=((0, 10), (1, 20), (2, 0), (3, 0))),
        CueRec(
            5000,
            "ten minutes",
            up_ms=600_000,
            down_ms=600_000,
            changes=((0, 255), (1, 0), (2, 65535)),
        ),
        CueRec(6000, "slow down", up_ms=4000, down_ms=8000, changes=((0, 0), (1, 255))),
    ),
)

# follow.cnshow: GO at t runs cue 1 at t; its follow (500) starts cue 2 at t+500; cue 2 hangs
# 200 ms after its 1 s fade completes -> cue 3 at t+1700, which follows at 0 ms -> cue 4 at
# t+1700. Cue 4 has no auto: the chain stops there.
FOLLOW = NodeShow(
    node_id="follow",
    show_name="follow and hang",
    params=((1, 0), (2, 0)),
    base_look=(0, 0),
    go_protect_ms=300,
    cues=(
        CueRec(
            1000,
            "follow 0.5",
            up_ms=1000,
            auto_mode=sf.AUTO_FOLLOW,
            auto_ms=500,
            changes=((0, 100),),
        ),
        CueRec(
            2000, "hang 0.2", up_ms=1000, auto_mode=sf.AUTO_HANG, auto_ms=200, changes=((0, 200),)
        ),
        CueRec(3000, "follow 0", auto_mode=sf.AUTO_FOLLOW, auto_ms=0, changes=((1, 255),)),
        CueRec(4000, "end of chain", up_ms=2000, down_ms=2000, changes=((1, 0),)),
        CueRec(5000, "out", up_ms=1000, down_ms=1000, changes=((0, 0),)),
    ),
)

FOG, STROBE, HOUSE = 0, 1, 2
RELAYS = NodeShow(
    node_id="relays",
    show_name="relay actions",
    params=((1, 0),),
    base_look=(0,),
    go_protect_ms=0,
    stop_fade_ms=1000,
    relays=(
        RelayRec(
            "fog",
            "R1",
            max_on_ms=3000,
            min_off_ms=2000,
            duty_window_ms=10_000,
            duty_pct=50,
            flags=sf.RELAY_REQUIRES_ARM | sf.RELAY_HAZARD,
        ),
        RelayRec("strobe", "R2", flags=sf.RELAY_HAZARD),
        RelayRec("house", "R3"),
    ),
    buttons=(
        ButtonRec("B1", sf.BTN_GO),
        ButtonRec("B2", sf.BTN_BACK),
        ButtonRec("B3", sf.BTN_STOP),
        ButtonRec("B4", sf.BTN_FIRE, cue_index=2),
    ),
    cues=(
        CueRec(
            1000, "fog burst", up_ms=1000, changes=((0, 255),), actions=((FOG, sf.ACT_PULSE, 5000),)
        ),
        CueRec(
            2000,
            "strobe and house on",
            changes=((0, 128),),
            actions=((STROBE, sf.ACT_ON, 0), (HOUSE, sf.ACT_ON, 0)),
        ),
        CueRec(3000, "strobe off", changes=((0, 64),), actions=((STROBE, sf.ACT_OFF, 0),)),
    ),
)

# tracking.cnshow: 40 cues, cue k sets parameter k % 8 to k + 1 (values track); keyframes
# every 16 cues, so GOTO/BACK replay the cues after a keyframe.
TRACKING = NodeShow(
    node_id="tracking",
    show_name="tracking",
    params=tuple((s, 0) for s in range(1, 9)),
    base_look=(7,) * 8,
    go_protect_ms=0,
    keyframe_every=16,
    cues=tuple(
        CueRec(1000 * (k + 1), up_ms=100 * (k % 3), down_ms=50 * (k % 4), changes=((k % 8, k + 1),))
        for k in range(40)
    ),
)

# many.cnshow: 20 cues, each a 10 s fade of its own parameter: more overlapping fades than
# the engine has fade groups (16). No GO protection.
MANY = NodeShow(
    node_id="many",
    show_name="overlapping fades",
    params=tuple((s, 0) for s in range(1, 21)),
    base_look=(0,) * 20,
    go_protect_ms=0,
    cues=tuple(
        CueRec(1000 * (k + 1), up_ms=10_000, down_ms=10_000, changes=((k, 200),)) for k in range(20)
    ),
)

# wide.cnshow: all 512 slots as 8-bit parameters; cue 1 fades all up, cue 2 all down.
WIDE = NodeShow(
    node_id="wide",
    show_name="512 channels",
    params=tuple((s, 0) for s in range(1, 513)),
    base_look=(0,) * 512,
    go_protect_ms=0,
    cues=(
        CueRec(1000, up_ms=60_000, down_ms=60_000, changes=tuple((p, 255) for p in range(512))),
        CueRec(2000, up_ms=60_000, down_ms=60_000, changes=tuple((p, 0) for p in range(512))),
    ),
)

# wide16.cnshow: 256 16-bit parameters covering all 512 slots (coarse 2k+1, fine 2k+2).
WIDE16 = NodeShow(
    node_id="wide16",
    show_name="256 16-bit parameters",
    params=tuple((2 * k + 1, 2 * k + 2) for k in range(256)),
    base_look=(0,) * 256,
    go_protect_ms=0,
    cues=(
        CueRec(
            1000,
            up_ms=60_000,
            down_ms=60_000,
            curve=sf.CURVE_SCURVE,
            changes=tuple((p, 65535) for p in range(256)),
        ),
        CueRec(2000, up_ms=60_000, down_ms=60_000, changes=tuple((p, 0) for p in range(256))),
    ),
)

# parts.cnshow: cue parts and effects. p0 slot 1, p1 slot 2, p2 16-bit slots 3/4, p3 slot 5,
# p4 slot 6; base look all 0. Effects: 0 "pair": square, period 1000, width half, size 100,
# p3 high in the first half of the cycle, p4 (phase 32768) in the second half; 1 "wave": sine,
# period 2000, size 1000, offset -500 on p2 (16-bit).
#   cue 1: p0 -> 255 up 1000 (the cue's own); part: delay 500 up 2000: p1 -> 200; part:
#          up 0: p2 -> 10000. Starts "pair".
#   cue 2: p0 -> 0 down 1000; runs "pair" and "wave".
#   cue 3: p3 -> 50 up 0; no effects.
PARTS = NodeShow(
    node_id="parts",
    show_name="parts and effects",
    params=((1, 0), (2, 0), (3, 4), (5, 0), (6, 0)),
    base_look=(0, 0, 0, 0, 0),
    go_protect_ms=100,
    stop_fade_ms=1000,
    effects=(
        EffectRec(sf.FX_SQUARE, 1000, 100, 0, 32768, ((3, 0), (4, 32768))),
        EffectRec(sf.FX_SINE, 2000, 1000, -500, 32768, ((2, 0),)),
    ),
    cues=(
        CueRec(
            1000,
            "parts",
            up_ms=1000,
            changes=((0, 255),),
            parts=(PartRec(((1, 200),), up_ms=2000, delay_ms=500), PartRec(((2, 10000),))),
            effects=1,
        ),
        CueRec(2000, "both effects", down_ms=1000, changes=((0, 0),), effects=3),
        CueRec(3000, "no effects", changes=((3, 50),)),
    ),
)


# fx512.cnshow (bench/effects_frames.py): 512 8-bit parameters, four effects of 128 members
# each (sine, ramp, square, an 8-step chase: every member spread over the cycle); cue 1 sets
# every parameter to 128 at once and starts all four; cue 2 stops them.
def _fx(shape: int, first: int, width: int = 32768) -> EffectRec:
    members = tuple((first + i, (i * 512) & 0xFFFF) for i in range(128))
    return EffectRec(shape, 2000, 100, -50, width, members)


FX512 = NodeShow(
    node_id="fx512",
    show_name="512 parameters under effects",
    params=tuple((slot, 0) for slot in range(1, 513)),
    base_look=(0,) * 512,
    go_protect_ms=0,
    effects=(
        _fx(sf.FX_SINE, 0),
        _fx(sf.FX_RAMP, 128),
        _fx(sf.FX_SQUARE, 256),
        _fx(sf.FX_SQUARE, 384, 8192),
    ),
    cues=(
        CueRec(1000, "all effects", changes=tuple((p, 128) for p in range(512)), effects=15),
        CueRec(2000, "no effects"),
    ),
)

FIXTURES = {
    "fade.cnshow": FADE,
    "follow.cnshow": FOLLOW,
    "relays.cnshow": RELAYS,
    "tracking.cnshow": TRACKING,
    "many.cnshow": MANY,
    "wide.cnshow": WIDE,
    "wide16.cnshow": WIDE16,
    "parts.cnshow": PARTS,
    "fx512.cnshow": FX512,
}


def build() -> dict[str, bytes]:
    return {name: encode(show) for name, show in FIXTURES.items()}


def main() -> int:
    DATA.mkdir(exist_ok=True)
    for name, blob in build().items():
        (DATA / name).write_bytes(blob)
        print(f"wrote {DATA / name} ({len(blob)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
