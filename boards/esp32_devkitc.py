# ESP32 DevKitC on the cuenode carrier. Plain data only (see boards/pico.py).
BOARD = "esp32_devkitc"
FAMILY = "esp32"
DESCRIPTION = "ESP32 DevKitC (CP2102 USB-UART, 115200 baud) on the cuenode carrier"

# DMX out: UART2 with a TX ring buffer. The break and mark-after-break are one 0x00 sent at
# 83333 baud (108 us low, 24 us high; board_esp32.py), not the UART's sendbreak().
DMX_TX = 17  # UART2 TX -> MAX485 DI
DMX_DE = 4  # MAX485 DE and /RE tied

RELAYS = {
    "R1": (25, 0),
    "R2": (26, 0),
    "R3": (27, 0),
    "R4": (14, 0),
}

# GPIO34..39 are input-only without pull-ups, so buttons use pins with internal pulls.
BUTTONS = {
    "B1": (32, "up"),
    "B2": (33, "up"),
    "B3": (18, "up"),
    "B4": (19, "up"),
    "B5": (21, "up"),
    "B6": (22, "up"),
}

STATUS_LED = 2
BUTTON_LEDS = {"B1": 12, "B2": 13}

WIRING = """
GPIO17 -> MAX485 DI, GPIO4 -> MAX485 DE+/RE. Relays GPIO25/26/27/14 (active low). Buttons on
GPIO32/33/18/19/21/22 to GND. Avoid GPIO12 high at boot (flash voltage strap): LED only.
"""

# HIL jig: a second Pico running firmware/jig/ (docs/hil.md). Node signal -> jig Pico GPIO.
# The jig drives buttons open-drain (a press pulls the node's pull-up low), senses relays and
# LEDs, timestamps the DMX TX line with PIO, and switches the node's 5 V through a relay.
HIL_JIG = {
    "dmx": {"DMX_TX": 2},
    "buttons": {"B1": 6, "B2": 7, "B3": 8, "B4": 9, "B5": 10, "B6": 11},
    "relays": {"R1": 14, "R2": 15, "R3": 16, "R4": 17},
    "leds": {"STATUS": 18, "B1": 19, "B2": 20},
    "power": 26,
}
