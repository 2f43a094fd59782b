# Keeps the hardware watchdog fed from a timer interrupt while no show loop does: during boot
# (before main.py's health task runs) and after the node hands the port to the REPL. On an
# RP2040 or ESP32 a started watchdog cannot be stopped, not even by a soft reset, so without
# this an mpremote session (flashing, file copies) would be reset ~2 s in.
#
# boot.py starts the watchdog and the feeder at every reset (a soft reset into the raw REPL
# runs boot.py but not main.py); main.py takes feeding over (take_back) so a hung show loop
# still ends in a reset, and hands it back (hand_over) when it leaves for the REPL.
# Pure: the watchdog and timer objects come from the caller (machine.WDT, machine.Timer).
from cuefw.compat import const

FEED_MS = const(250)

_state = [None, None]  # [watchdog, timer feeding it or None]


def hand_over(wdt, timer):
    """Feed `wdt` every FEED_MS from `timer` until take_back()."""
    take_back()
    _state[0] = wdt
    _state[1] = timer
    timer.init(mode=timer.PERIODIC, period=FEED_MS, callback=_feed)


def _feed(_timer):
    wdt = _state[0]
    if wdt is not None:
        wdt.feed()


def take_back():
    """Stop the timer feeding: the caller feeds the watchdog itself from now on."""
    timer = _state[1]
    _state[1] = None
    if timer is not None:
        timer.deinit()


def watchdog():
    """The watchdog boot.py started, or None."""
    return _state[0]


def feeding():
    return _state[1] is not None
