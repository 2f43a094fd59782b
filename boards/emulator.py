# The desktop emulator's virtual board: same shape as a real board, pins are virtual.
BOARD = "emulator"
FAMILY = "emulator"
DESCRIPTION = "Virtual node (cuenode emulate): pty serial, virtual DMX line, relays, buttons"

DMX_TX = 0
DMX_DE = 1
RELAYS = {"R1": (2, 1), "R2": (3, 1), "R3": (4, 1), "R4": (5, 1)}
BUTTONS = {f"B{i}": (5 + i, "up") for i in range(1, 9)}
STATUS_LED = 25
BUTTON_LEDS = {"B1": 14, "B2": 15, "B3": 16, "B4": 17}
WIRING = "Virtual: the physical world is the node's socket (see docs/emulator.md)."

# HIL jig: the same wiring as boards/pico.py. In the emulator the world socket stands in for
# the jig (it addresses node signals by name). On a board it is a second Pico running
# firmware/jig/ (docs/hil.md). Node signal -> jig Pico GPIO.
# The jig drives buttons open-drain (a press pulls the node's pull-up low), senses relays and
# LEDs, timestamps the DMX TX line with PIO, and switches the node's 5 V through a relay.
HIL_JIG = {
    "dmx": {"DMX_TX": 2},
    "buttons": {"B1": 6, "B2": 7, "B3": 8, "B4": 9, "B5": 10, "B6": 11, "B7": 12, "B8": 13},
    "relays": {"R1": 14, "R2": 15, "R3": 16, "R4": 17},
    "leds": {"STATUS": 18, "B1": 19, "B2": 20, "B3": 21, "B4": 22},
    "power": 26,
}
