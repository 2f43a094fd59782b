# emu_hw for the MicroPython WebAssembly runtime: the DMX line and the debug probe are in the
# Node.js host (emu_js), like the CPython runtime's cuenode.emulator.hardware.
import json

import emu_js

BREAK_US = 176
MAB_US = 12


class DmxLine:
    def __init__(self, tx, break_us=BREAK_US, mab_us=MAB_US):
        self.break_us = break_us
        self.mab_us = mab_us

    def busy(self):
        return emu_js.dmx_busy()

    def send(self, buf):
        emu_js.dmx_send(bytes(buf).hex(), self.break_us, self.mab_us)


def publish(**status):
    emu_js.publish(json.dumps(status))
