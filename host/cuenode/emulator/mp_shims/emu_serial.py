# The node's USB serial under the MicroPython WebAssembly runtime, as a driver stream: the
# build has no select.poll on stdin, so the Node.js host (emu_js) keeps the received bytes in
# a queue that the firmware's link task reads with any()/readinto(), woken by irq().
import emu_js


class USBSerial:
    def any(self):
        return emu_js.serial_any()

    def readinto(self, buf, nbytes=-1):
        n = len(buf) if nbytes < 0 else nbytes
        data = bytes.fromhex(emu_js.serial_read(n))
        buf[: len(data)] = data
        return len(data)

    def write(self, buf):
        emu_js.serial_write(bytes(buf).hex())
        return len(buf)

    def irq(self, handler):
        emu_js.serial_irq((lambda: handler(self)) if handler else None)
