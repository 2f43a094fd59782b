# cuenode boot.py: runs first at every reset (also before a raw-REPL session), so the one
# safety rule that must hold even if main.py is broken lives here: every relay is off.
# It also starts the watchdog with a timer feeding it (cuefw.wdtfeed): a watchdog started
# before a soft reset keeps running, and the REPL (mpremote) must not be reset by it.
# main.py takes the feeding over from its health task. TIMER_ID (like DRIVER and USB_SERIAL)
# is the board family's entry that the host's image builder writes into board.py.
import board
import machine
from machine import Pin

for _label in board.RELAYS:
    _gpio, _active = board.RELAYS[_label]
    Pin(_gpio, Pin.OUT, value=0 if _active else 1)
del _label, _gpio, _active

if hasattr(machine, "Timer"):
    from cuefw import wdtfeed

    wdtfeed.hand_over(machine.WDT(timeout=2000), machine.Timer(board.TIMER_ID))
