# ESP32 board driver: DMX512 out of UART2 with a TX ring buffer, so the 513 bytes of a frame
# drain in the background. Takes its UART and pins from main.py (boards/esp32_devkitc.py data).
#
# The break and mark-after-break are made by sending one 0x00 at a slower baud rate: at 83333
# baud a bit is 12 us, so start bit + 8 zero bits = 108 us low (break >= 92 us) and the two
# stop bits = 24 us high (MAB >= 12 us). That costs one short blocking flush (~132 us, well
# under the 1 ms the loop allows); the frame itself never blocks.
from cuefw.compat import const

_DMX_BAUD = const(250000)
_BREAK_BAUD = const(83333)
_TXBUF = const(1024)


class DmxOut:
    def __init__(self, uart, tx_gpio, de_pin):
        self.uart = uart
        self.tx = tx_gpio
        self.de = de_pin
        self._init(_DMX_BAUD)

    def _init(self, baud):
        self.uart.init(baudrate=baud, bits=8, parity=None, stop=2, tx=self.tx, txbuf=_TXBUF)

    def busy(self):
        return not self.uart.txdone()

    def send(self, frame):
        self._init(_BREAK_BAUD)
        self.uart.write(b"\x00")
        self.uart.flush()  # the break + MAB have left the shifter
        self._init(_DMX_BAUD)
        self.uart.write(frame)  # into the TX buffer; the UART interrupt sends it

    def probe(self, app, now):
        pass  # the live view's debug probe exists only on the emulated board
