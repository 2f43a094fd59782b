# Raspberry Pi Pico (RP2040) cuenode carrier board. Plain data: the firmware's rp2 driver and
# the host's validator both read it; nothing here touches hardware.
BOARD = "pico"
FAMILY = "rp2"
DESCRIPTION = "Raspberry Pi Pico on the cuenode carrier (MAX485, 4 relays, 8 buttons)"

# DMX out: PIO state machine on DMX_TX drives the MAX485 DI; DMX_DE high = transmit.
DMX_TX = 0  # GP0 -> MAX485 DI
DMX_DE = 1  # GP1 -> MAX485 DE and /RE tied

# Relays: label -> (GPIO, active level). The carrier's opto-isolated relay modules are
# active-low, so "off" is a high pin.
RELAYS = {
    "R1": (2, 0),
    "R2": (3, 0),
    "R3": (4, 0),
    "R4": (5, 0),
}

# Buttons: label -> (GPIO, pull). Buttons short to ground; "up" = internal pull-up.
BUTTONS = {
    "B1": (6, "up"),
    "B2": (7, "up"),
    "B3": (8, "up"),
    "B4": (9, "up"),
    "B5": (10, "up"),
    "B6": (11, "up"),
    "B7": (12, "up"),
    "B8": (13, "up"),
}

STATUS_LED = 25  # on-board LED
BUTTON_LEDS = {"B1": 14, "B2": 15, "B3": 16, "B4": 17}

WIRING = """
GP0 -> MAX485 DI, GP1 -> MAX485 DE+/RE, MAX485 A/B -> XLR pins 3/2, GND -> XLR pin 1.
Relay modules on GP2..GP5 (active low, 5 V coil supply from VSYS). Fog/haze on R1/R2 must be
switched by a mains-rated relay. Buttons GP6..GP13 to GND. Button LEDs GP14..GP17 via 330 R.
"""

# HIL jig: a second Pico running firmware/jig/ (docs/hil.md). Node signal -> jig Pico GPIO.
# The jig drives buttons open-drain (a press pulls the node's pull-up low), senses relays and
# LEDs, timestamps the DMX TX line with PIO, and switches the node's 5 V through a relay.
HIL_JIG = {
    "dmx": {"DMX_TX": 2},
    "buttons": {"B1": 6, "B2": 7, "B3": 8, "B4": 9, "B5": 10, "B6": 11, "B7": 12, "B8": 13},
    "relays": {"R1": 14, "R2": 15, "R3": 16, "R4": 17},
    "leds": {"STATUS": 18, "B1": 19, "B2": 20, "B3": 21, "B4": 22},
    "power": 26,
}
