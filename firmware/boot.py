# cuenode boot.py: runs first at every reset (also before a raw-REPL session), so the one
# safety rule that must hold even if main.py is broken lives here: every relay is off.
import board
from machine import Pin

for _label in board.RELAYS:
    _gpio, _active = board.RELAYS[_label]
    Pin(_gpio, Pin.OUT, value=0 if _active else 1)
del _label, _gpio, _active
