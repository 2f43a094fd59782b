# cuenode main.py: MicroPython runs it after boot.py. It stays this small on purpose: the
# application is nodeapp (nodeapp.mpy on a chip, compiled at flash time), so the node compiles
# no source at boot. relays_off and feed_at_repl are imported here for the REPL and the
# emulator, which look for them in main's globals; APP stays for REPL inspection.
try:  # from the first moment a stray 0x03 is link noise: cuefw.handover says what hands over
    import micropython

    micropython.kbd_intr(-1)
except (ImportError, AttributeError):
    pass

from nodeapp import feed_at_repl, main, relays_off  # noqa: E402, F401

APP = main()
