# What the node's LEDs show, decided from the engine, the governor and the time (pure), and a
# small driver that writes the result to the LED pins it is given (boards/*.py: STATUS_LED,
# BUTTON_LEDS). main.py calls Leds.update once per frame.
#
# Status LED: one pattern of 16 steps of 128 ms (2.048 s a cycle; bit k lit in step k), by
# priority: fault > armed > running > standing by > no show.
# Button LEDs (buttons.Debouncer shows them): lit while pressed, fast blink while stuck or held
# at start; otherwise what the button's action in the show can do now (button_mode).
from cuefw.buttons import LED_BLINK, LED_OFF, LED_ON
from cuefw.compat import const
from cuefw.engine import MODE_NO_SHOW, MODE_RUNNING, MODE_STANDBY, MODE_STOPPED
from cuefw.showfile import BTN_BACK, BTN_FIRE, BTN_GO, BTN_STOP

NO_SHOW = const(0x0001)  # a 128 ms blip every 2 s: alive, nothing to play
STANDING_BY = const(0x00FF)  # slow blink, 1 s on, 1 s off: GO required
RUNNING = const(0xFFFF)  # steady
ARMED = const(0x0033)  # double blink: hazardous relays can fire
FAULT = const(0x5555)  # fast blink (~4 Hz): look at `cuenode status`
STEP_SHIFT = const(7)  # 128 ms a step; ticks wrap at a multiple of 2048: no glitch at the wrap


def status_pattern(mode, armed, fault):
    """The status LED's pattern for an engine mode (engine.MODE_*), armed and fault flags."""
    if fault:
        return FAULT
    if armed:
        return ARMED
    if mode == MODE_RUNNING:
        return RUNNING
    if mode == MODE_STANDBY or mode == MODE_STOPPED:
        return STANDING_BY
    return NO_SHOW


def lit(pattern, now):
    """1 if `pattern` is lit at tick `now`, else 0."""
    return (pattern >> ((now >> STEP_SHIFT) & 15)) & 1


def button_mode(action, cue_index, engine):
    """LED_OFF/ON/BLINK for an idle button whose show action is `action` (showfile.BTN_*):
    GO blinks when the next GO is required to start (standing by) and is lit while a next cue
    is there to run; BACK is lit when there is a cue to go back to; STOP while a cue runs;
    FIRE while its cue is the live one. Dark: pressing it now would do nothing."""
    mode = engine.mode
    if mode == MODE_NO_SHOW:
        return LED_OFF
    if action == BTN_GO:
        if engine.next_index >= engine.n_cues:
            return LED_OFF
        return LED_ON if mode == MODE_RUNNING else LED_BLINK
    if action == BTN_BACK:
        return LED_ON if engine.current >= 1 else LED_OFF
    if action == BTN_STOP:
        return LED_ON if mode == MODE_RUNNING else LED_OFF
    if action == BTN_FIRE:
        return LED_ON if mode == MODE_RUNNING and engine.current == cue_index else LED_OFF
    return LED_OFF


class Leds:
    """Drives the status LED pin and the button LED pins (objects with .value(v); None where
    the board has no LED) from the show's buttons. Allocates nothing per update."""

    def __init__(self, status_pin, button_pins):
        self.status_pin = status_pin
        self.button_pins = button_pins  # {board button label: pin} from boards/*.py
        self.pins = []  # LED pin per show button index (None: that button has no LED)
        self.actions = []  # (action, cue index) per show button index

    def map_buttons(self, labels, actions):
        """The show's buttons: board labels and (action, cue index), by button index."""
        self.pins = [self.button_pins.get(label) for label in labels]
        self.actions = list(actions)
        for pin in self.button_pins.values():
            pin.value(0)  # a LED no show button uses stays dark

    def update(self, now, engine, armed, fault, debouncer):
        """Once a frame: set each button's idle mode, then write every LED pin."""
        if self.status_pin is not None:
            self.status_pin.value(lit(status_pattern(engine.mode, armed, fault), now))
        pins = self.pins
        for i in range(len(pins)):
            if i >= debouncer.n:
                break
            action, cue_index = self.actions[i]
            debouncer.set_led(i, button_mode(action, cue_index, engine))
            pin = pins[i]
            if pin is not None:
                pin.value(debouncer.led[i])
