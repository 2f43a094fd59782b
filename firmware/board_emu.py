# Emulator board driver: the same interface as board_rp2 / board_esp32, over the emulated
# board's hardware (`emu_hw`, the emulator's stand-in for PIO+DMA or a UART FIFO). The line
# takes a copy of the frame at send(), as board_rp2's double buffer does. The link uses
# sys.stdin.buffer as on the boards: both emulator runtimes model the ports' text sys.stdin.
import emu_hw


class DmxOut:
    """DMX512 transmitter. send() starts a frame in the background; busy() until it ends."""

    def __init__(self, tx_pin, de_pin, break_us=176, mab_us=12):
        self.de = de_pin
        self.line = emu_hw.DmxLine(tx_pin, break_us, mab_us)

    def busy(self):
        return self.line.busy()

    def send(self, frame):
        self.line.send(frame)

    def probe(self, app, now):
        """Debug probe for the live view (like reading RAM over SWD): not on real boards."""
        e = app.engine
        emu_hw.publish(
            node=app.node_id,
            show=app.show_name,
            mode=e.mode,
            cue=e.current_number,
            next=e.next_number,
            progress=e.progress(now),
            armed=app.gov.armed,
            relays=list(app.gov.state),
            relay_left=[app.gov.remaining_on_ms(i, now) for i in range(app.gov.n)],
            frames=app.frames,
            buttons=[app.buttons.stable[i] for i in range(len(app.button_pins))],
            faults=[app.buttons.fault[i] for i in range(len(app.button_pins))],
        )

