"""The show the HIL suite pushes to the node under test, written for that node's board.

Small and built for measuring: snap cues make "the first packet carrying the cue" obvious, a
slow 16-bit pan fade crosses a coarse-byte boundary (a torn value would show), and two relays
exercise a pulse and the node's own max_on cut.
"""

from __future__ import annotations

PAN_FROM = 0x7500
PAN_TO = 0x7700
FADE_MS = 2000
PULSE_MS = 500
FOG_MAX_ON_MS = 1000
GO_PROTECT_MS = 300

# cue number -> what it is for (the tests use these names)
HOME, SNAP, PAN_FADE, PULSE, FOG_ON, FOG_OFF = "1", "2", "3", "4", "5", "6"
FX_ON, FX_OFF = "7", "8"  # the effect relay on with no limit (the watchdog check)
CHAIN_A, CHAIN_B, LAST = "9", "10", "11"  # 9 follows on to 10, 10 to 11: needs no host
FOLLOW_MS = 400


def show_yaml(node_id: str, board: str) -> str:
    return f"""\
show:
  name: HIL
  version: 1
fixture_types:
  hil_head:
    channels:
      dimmer: 1
      pan: [2, 3]
fixtures:
  head: {{type: hil_head, address: 1}}
nodes:
  {node_id}:
    board: {board}
    fixtures: [head]
    go_protect: {GO_PROTECT_MS}ms
    stop_fade: 0s
    relays:
      fx:
        pin: R2
      fog:
        pin: R1
        max_on: {FOG_MAX_ON_MS}ms
        min_off: 1s
        requires_arm: true
        hazard: true
    buttons:
      B1: go
      B2: back
      B3: stop
cues:
  - cue: {HOME}
    time: 0s
    levels: {{head.dimmer: 0, head.pan: {PAN_FROM}}}
  - cue: {SNAP}
    time: 0s
    levels: {{head.dimmer: 255}}
  - cue: {PAN_FADE}
    time: {FADE_MS}ms
    levels: {{head.pan: {PAN_TO}, head.dimmer: 128}}
  - cue: {PULSE}
    relays: {{fx: pulse {PULSE_MS}ms}}
  - cue: {FOG_ON}
    relays: {{fog: on}}
  - cue: {FOG_OFF}
    relays: {{fog: off}}
  - cue: {FX_ON}
    relays: {{fx: on}}
  - cue: {FX_OFF}
    relays: {{fx: off}}
  - cue: {CHAIN_A}
    time: 0s
    follow: {FOLLOW_MS}ms
    levels: {{head.dimmer: 10}}
  - cue: {CHAIN_B}
    time: 0s
    follow: {FOLLOW_MS}ms
    levels: {{head.dimmer: 20}}
  - cue: {LAST}
    time: 0s
    levels: {{head.dimmer: 0}}
"""
