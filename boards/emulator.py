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
HIL_JIG = {"dmx_sense": 0, "relay_sense": {"R1": 2, "R2": 3}, "button_drive": {"B1": 6, "B2": 7}}
