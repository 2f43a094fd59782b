# cuenode node application: wires the board, the show store, the cue engine and the link.
# main.py only imports this module and calls main(): on a chip it is flashed as nodeapp.mpy
# (compiled by mpy-cross), so the node compiles no source at boot (issue 9: ~13 KB of heap).
#
# Order matters: relays are driven off before anything else (at import), then the DMX driver
# starts, the show is loaded from flash, and the asyncio tasks run: DMX refresh (engine tick +
# frame out, paced by cuefw.pacing), buttons (debounced, IRQ-woken), link (sys.stdin.buffer ->
# NodeLink), the cue saver, and the health check that feeds the watchdog only while the frame
# loop checks in.
#
# The same file runs on every board: `board.py` (copied from boards/<name>.py) is plain data,
# and the board family picks the DMX driver (board_rp2, board_esp32, board_emu).
import asyncio
import gc
import sys
from time import ticks_diff, ticks_ms

import board
import machine
from cuefw.compat import const
from machine import Pin

FW_VERSION = "0.1.0"
FRAME_MS = const(23)  # 176 us break + 12 us MAB + 513 slots x 44 us = 22.76 ms on the line
BUTTON_ACTIVE_MS = const(1)  # poll period while a button is changing
BUTTON_IDLE_MS = const(20)  # poll period at rest (LED blink, stuck detection)
WDT_MS = const(2000)
HEALTH_MS = const(500)
ID_FILE = "/node.id"
CUE_FILE = "/cue.txt"  # where the show is (EngineNode.cue_state), for resuming after a reset
CUE_SAVE_MS = const(1000)

# -- 1. relays off, first ---------------------------------------------------------------
RELAY_LABELS = sorted(board.RELAYS)
RELAY_ACTIVE = [board.RELAYS[label][1] for label in RELAY_LABELS]  # pin level that means on
RELAY_PINS = []
for _k in range(len(RELAY_LABELS)):
    _gpio = board.RELAYS[RELAY_LABELS[_k]][0]
    RELAY_PINS.append(Pin(_gpio, Pin.OUT, value=1 - RELAY_ACTIVE[_k]))


def relays_off():
    for k in range(len(RELAY_PINS)):
        RELAY_PINS[k].value(1 - RELAY_ACTIVE[k])


# -- 2. the DMX driver for this board family ----------------------------------------------
def make_dmx():
    de = Pin(board.DMX_DE, Pin.OUT, value=1)  # RS-485 driver enabled: we only transmit
    if board.FAMILY == "rp2":
        import board_rp2

        return board_rp2.DmxOut(Pin(board.DMX_TX), de, sm_id=0)
    if board.FAMILY == "esp32":
        import board_esp32
        from machine import UART

        return board_esp32.DmxOut(UART(2), board.DMX_TX, de)
    import board_emu

    return board_emu.DmxOut(Pin(board.DMX_TX), de)


from cuefw import buttons as btn  # noqa: E402 - after the relays are safe
from cuefw import showfile, wdtfeed  # noqa: E402
from cuefw.engine import Engine  # noqa: E402
from cuefw.eventlog import EV_BOOT, EventLog, cue_text  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.leds import Leds  # noqa: E402
from cuefw.nodeapi import EngineNode  # noqa: E402
from cuefw.pacing import FramePacer  # noqa: E402
from cuefw.universe import Universe  # noqa: E402


def _read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


class App(EngineNode):
    """The node. EngineNode (cuefw.nodeapi) is what the link talks to: engine, governor,
    event log, store, status and log; App adds this board's relay pins, buttons and DMX."""

    def __init__(self, dmx, store, now):
        log = EventLog(64)
        self.universe = Universe()
        gov = RelayGovernor(len(RELAY_PINS), log)
        engine = Engine(self.universe, gov, log)
        EngineNode.__init__(
            self, engine, gov, log, store, _read_text(ID_FILE), board.BOARD, FW_VERSION, now
        )
        self.dmx = dmx
        self.nodelink = None  # set by main(): the link task sends its event frames
        self.show_name = ""
        self.buttons = btn.Debouncer(0, log=log)
        self.button_pins = []
        self.button_actions = []
        self.pin_relay = [-1] * len(RELAY_PINS)  # board relay pin -> show relay index
        # Button pins wake the buttons task through this flag (ThreadSafeFlag on boards; an
        # Event is as good for a soft IRQ, and the WebAssembly port has one).
        self.button_flag = (
            asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
        )
        self.alive = 0  # bit per task, set when it runs; the health task clears it
        self.wdt = None  # set by main() once the watchdog runs
        self.frames = 0
        self.pacer = FramePacer(FRAME_MS, now)
        self.fps_tick = now  # DMX frame rate: frames counted over each second
        self.fps_frames = 0
        # LEDs the board declares, driven once a frame (cuefw/leds.py)
        self.leds = Leds(
            Pin(board.STATUS_LED, Pin.OUT, value=0),
            {k: Pin(g, Pin.OUT, value=0) for k, g in board.BUTTON_LEDS.items()},
        )
        log.add(now, EV_BOOT, machine.reset_cause(), 0)

    def check_board(self, reader):
        """Refuse a show whose relay or button labels this board lacks (called before a push
        commits and before a load switches the engine, so a refusal changes nothing)."""
        for i in range(reader.n_relays):
            name, label = reader.relay(i)[:2]
            if label not in board.RELAYS:
                raise showfile.ShowError(
                    "relay '%s' is on pin %s, board %s has relay pins %s: compile the show for "
                    "this board" % (name, label, board.BOARD, " ".join(RELAY_LABELS))
                )
        for i in range(reader.n_buttons):
            label = reader.button(i)[0]
            if label not in board.BUTTONS:
                raise showfile.ShowError(
                    "button %s is not on board %s (it has %s): compile the show for this board"
                    % (label, board.BOARD, " ".join(sorted(board.BUTTONS)))
                )

    def _load(self, path, now):
        relays_off()  # the new show may map relays to other pins: nothing stays on from the old
        EngineNode._load(self, path, now)  # check_board ran first: the pin maps below cannot fail
        reader = self.reader
        self.show_name = reader.show_name
        if not self.node_id:
            self.node_id = reader.node_id
        self._map_relays(reader)
        self._map_buttons(reader)

    def _map_relays(self, reader):
        pin_relay = [-1] * len(RELAY_PINS)
        for i in range(reader.n_relays):
            label = reader.relay(i)[1]
            if label in board.RELAYS:
                pin_relay[RELAY_LABELS.index(label)] = i
        self.pin_relay = pin_relay

    def _map_buttons(self, reader):
        n = reader.n_buttons
        deb = btn.Debouncer(n, log=self.log_)
        pins, actions = [], []
        for pin, _ in self.button_pins:
            pin.irq(handler=None)  # the old show's buttons stop waking the task
        wake = self._wake_buttons
        for i in range(n):
            label, action, flags, cue_index, debounce_ms, stuck_s = reader.button(i)
            gpio, pull = board.BUTTONS[label]
            pin = Pin(gpio, Pin.IN, Pin.PULL_UP if pull == "up" else Pin.PULL_DOWN)
            # An edge wakes the buttons task at once (1 ms sampling) instead of waiting for the
            # once-a-frame poll: a press after a push is as fast as one after boot.
            pin.irq(wake, Pin.IRQ_FALLING | Pin.IRQ_RISING)
            pins.append((pin, 1 if pull == "up" else 0))  # idle level
            actions.append((action, cue_index))
            deb.configure(i, debounce_ms, stuck_s * 1000)
        self.buttons, self.button_pins, self.button_actions = deb, pins, actions
        # button LEDs follow the show's button actions
        self.leds.map_buttons([reader.button(i)[0] for i in range(n)], actions)

    def repl(self):
        """Link asked for the REPL: relays off and the watchdog fed by a timer at once (the
        show loop ends within a frame; the REPL must not be reset meanwhile)."""
        EngineNode.repl(self)
        self.gov.all_off(ticks_ms())
        relays_off()
        if self.wdt is not None:
            feed_at_repl(self.wdt)

    def status(self, now):
        st = EngineNode.status(self, now)
        st["node"] = self.node_id
        st["frames"] = self.frames
        st["late_frames"] = self.pacer.late
        st["mem_free"] = gc.mem_free()
        return st

    def count_frame(self, now):
        """Count a sent frame; once a second, turn the count into the DMX frame rate."""
        self.frames += 1
        self.fps_frames += 1
        if ticks_diff(now, self.fps_tick) >= 1000:
            self.dmx_fps = self.fps_frames
            self.fps_frames = 0
            self.fps_tick = now

    # -- per frame ----------------------------------------------------------------------
    def _wake_buttons(self, pin):
        self.button_flag.set()

    def mirror_relays(self):
        """Drive every board relay pin from the governor; a pin no show relay maps is off."""
        state = self.gov.state
        pin_relay = self.pin_relay
        for k in range(len(RELAY_PINS)):
            i = pin_relay[k]
            on = i >= 0 and state[i]
            RELAY_PINS[k].value(RELAY_ACTIVE[k] if on else 1 - RELAY_ACTIVE[k])

    def poll_buttons(self, now):
        """Sample every button once, run queued presses; True while one is settling."""
        deb = self.buttons
        settling = False
        for i in range(len(self.button_pins)):
            pin, idle_level = self.button_pins[i]
            deb.sample(i, pin.value() != idle_level, now)
            if deb.pending[i]:
                settling = True
        code = deb.pop()
        while code != btn.NO_EVENT:
            self.on_button(code, deb.event_tick)
            code = deb.pop()
        return settling

    def on_button(self, code, tick):
        i = code & btn.BUTTON_MASK
        if code & btn.PRESS and i < len(self.button_actions):
            action, cue_index = self.button_actions[i]
            self.engine.do(action, cue_index, tick)


async def dmx_task(app):
    """Engine tick and one DMX frame every FRAME_MS. The driver sends a copy of the frame
    (double buffer), so the engine may write the universe while the packet goes out; the
    pacer re-anchors the schedule after a late frame so the next ones are on time (D2)."""
    frame = app.universe.frame
    dmx = app.dmx
    pacer = app.pacer
    while not app.want_repl:  # at the REPL nothing drives DMX or relays
        now = ticks_ms()
        try:
            frame_once(app, dmx, frame, now)
            while dmx.busy():  # only after an uneven frame: the last slots are still going out
                await asyncio.sleep_ms(1)  # never spin: a spinning node starves its neighbours
            dmx.send(frame)
            pacer.sent(ticks_ms())
            app.count_frame(now)
            app.alive |= 1
            app.poll_buttons(now)  # at rest buttons are sampled once a frame (LEDs, stuck)
            # status and button LEDs (fault: the show did not load)
            app.leds.update(now, app.engine, app.gov.armed, bool(app.load_error), app.buttons)
            if app.frames % 11 == 1:
                dmx.probe(app, now)
        except Exception as e:  # the task must outlive any engine fault; the frame is not
            report(e)  # counted alive, so a fault every frame still ends in a watchdog reset
        await asyncio.sleep_ms(pacer.wait_ms(ticks_ms()))


def frame_once(app, dmx, frame, now):
    """What one frame computes before it goes out: levels, relays, a pending show switch."""
    app.engine.tick(now)
    app.gov.tick(now)
    app.poll(now)  # a pushed show waiting for the fade to end switches in here
    app.mirror_relays()


_last_report = [""]


def report(e):
    """Print a task's exception once (not once per frame while it repeats)."""
    text = "%s: %s" % (type(e).__name__, e)
    if text != _last_report[0]:
        _last_report[0] = text
        print("cuenode: task error:", text)


async def buttons_task(app, flag):
    """Woken by a pin IRQ: sample every millisecond until the debouncer settles."""
    while True:
        await flag.wait()
        flag.clear()
        try:
            while app.poll_buttons(ticks_ms()):
                await asyncio.sleep_ms(BUTTON_ACTIVE_MS)
        except Exception as e:  # a button action that fails must not end the buttons task
            report(e)


async def link_task(app, handler):
    """Serial bytes in -> handler -> response bytes out. Waits for input; never blocks.
    sys.stdin is a text stream on the ports (a byte that is not UTF-8 raises UnicodeError):
    the link reads its binary `.buffer`, on every board and in both emulator runtimes.
    The keyboard interrupt is off while the show owns the port (a stray 0x03 is noise); a
    deliberate interrupt (cuefw.handover: mpremote's CR Ctrl-C CR, or Ctrl-C twice) hands
    the port to the REPL, leaving the bytes after it unread for the REPL."""
    import select

    from cuefw.handover import Handover

    kbd_intr(-1)
    intr = Handover(ticks_ms())
    reader = asyncio.StreamReader(sys.stdin.buffer)
    stdin = sys.stdin.buffer
    poller = select.poll()
    poller.register(stdin, select.POLLIN)
    rx = bytearray(256)
    one = bytearray(1)
    out = sys.stdout.buffer
    start_events(app, out.write)
    while not app.want_repl:
        first = await reader.read(1)  # sleeps until a byte arrives (stdin read(n) blocks)
        now = ticks_ms()
        rx[0] = first[0]
        n = 1
        over = intr.feed(rx[0], now)
        while not over and n < len(rx) and poller.poll(0):
            stdin.readinto(one, 1)
            rx[n] = one[0]
            n += 1
            over = intr.feed(one[0], now)
        if over:
            hand_over(app, handler, rx, n - 1, now)
            return
        reply = handler(memoryview(rx)[:n], now)
        if reply:
            out.write(reply)


def hand_over(app, handler, rx, n, now):
    """A deliberate interrupt: link bytes before it still count, then the REPL gets the port."""
    if n:
        handler(memoryview(rx)[:n], now)
    print("cuenode: show stopped, the REPL has the port (back: cuenode reset, or power cycle)")
    app.repl()


def kbd_intr(ch):
    try:
        import micropython

        micropython.kbd_intr(ch)
    except (ImportError, AttributeError):  # a runtime without keyboard interrupts
        pass


# -- events: the link's hook (docs/protocol.md, "Events") ----------------------------------
def start_events(app, write):
    """Send event frames to a subscribed host as soon as the event log grows."""
    nodelink = app.nodelink
    if nodelink is not None:
        asyncio.create_task(events_task(app, nodelink, write))


async def events_task(app, nodelink, write):
    """Woken by the event log (EventLog.wake); writes whole frames between link replies."""
    flag = asyncio.Event()
    app.log_.wake = flag
    while not app.want_repl:
        await flag.wait()
        flag.clear()
        try:
            while nodelink.events_waiting():
                write(nodelink.events())
        except Exception as e:  # a failing write must not end the task (the link lives on)
            report(e)


async def health_task(app, wdt):
    """Feed the watchdog only while the frame loop keeps running (it checks in each frame)."""
    wdtfeed.take_back()  # from now on a stalled frame loop ends in a watchdog reset
    while not app.want_repl:
        await asyncio.sleep_ms(HEALTH_MS)
        if app.alive & 1 and wdt is not None:
            wdt.feed()
        app.alive = 0


def save_cue_state(state):
    """Write the cue state atomically (temp file + rename): a reset mid-write leaves the old."""
    import os

    with open(CUE_FILE + ".tmp", "w") as f:
        f.write(state)
    try:
        os.rename(CUE_FILE + ".tmp", CUE_FILE)
    except OSError:  # a filesystem that cannot rename over a file
        os.remove(CUE_FILE)
        os.rename(CUE_FILE + ".tmp", CUE_FILE)


async def cue_save_task(app):
    """Low priority, off the frame path: at most once a second, save where the show is if it
    changed, so a reset (watchdog, brown-out) comes back standing by at the next cue."""
    saved = _read_text(CUE_FILE)
    while not app.want_repl:
        await asyncio.sleep_ms(CUE_SAVE_MS)
        state = app.cue_state()
        if state is not None and state != saved:
            try:
                save_cue_state(state)
                saved = state
            except OSError as e:
                report(e)


def resume_saved_cue(app, now):
    """At boot: stand by where the show was before the reset (GO required), and say so."""
    if app.resume_from(_read_text(CUE_FILE), now):
        e = app.engine
        print(
            "cuenode: resumed after cue %s: standing by at cue %s, GO required"
            % (app.status(now)["resumed_after"], cue_text(e.next_number))
        )


# relay cuts on time: the governor cuts a relay at the first tick at or after
# its deadline, so this task ticks it AT the deadline (within a millisecond), not once a frame.
async def relay_task(app, changed):
    """Sleep until the governor's next cut (gov.next_cut_in), woken early when a relay
    switches on or a deadline moves (gov.on_change sets `changed`); tick, mirror the pins."""
    gov = app.gov
    while not app.want_repl:
        changed.clear()
        now = ticks_ms()
        gov.tick(now)
        app.mirror_relays()
        wait = gov.next_cut_in(now)
        try:
            if wait < 0:
                await changed.wait()  # nothing to cut: until a relay switches on
            else:  # allocates a timeout task: once per relay event, never per frame
                await asyncio.wait_for_ms(changed.wait(), wait)
        except asyncio.TimeoutError:
            pass


async def run(app, handler, wdt):
    # the relay task and its wake-up (see relay_task). The pins follow the governor at once:
    # a relay switched by a GO, a STOP or a disarm is on/off on its pin within the request,
    # not a task wake-up later (on the chip that wake-up was ~5 ms: pulses came out short
    # and STOP took ~6.7 ms), and its on-time is counted from the same moment.
    changed = asyncio.Event()

    def relays_changed():
        app.mirror_relays()
        changed.set()

    app.gov.on_change = relays_changed
    asyncio.create_task(relay_task(app, changed))
    asyncio.create_task(dmx_task(app))
    asyncio.create_task(cue_save_task(app))
    asyncio.create_task(buttons_task(app, app.button_flag))
    asyncio.create_task(health_task(app, wdt))
    await link_task(app, handler)


def main():
    import hashlib

    from cuefw.nodelink import NodeLink
    from cuefw.store import Store

    store = Store("", hashlib.sha256)
    app = App(make_dmx(), store, ticks_ms())
    nodelink = NodeLink(app, store)
    app.nodelink = nodelink  # the link task sends its event frames (start_events)
    try:
        app.boot(ticks_ms())  # show.bin, else show.prev; never raises for a bad show
    except Exception as e:  # e.g. a broken filesystem: run without a show, link still up
        print("cuenode: show not loaded:", e)
    try:
        resume_saved_cue(app, ticks_ms())
    except Exception as e:
        print("cuenode: no resume:", e)
    gc.collect()  # boot's garbage (show checks, self-checks: ~80 KB on a Pico) goes now, not
    # in the middle of a frame later; `status` then reports the heap the node really has
    wdt = wdtfeed.watchdog() or machine.WDT(timeout=WDT_MS)
    app.wdt = wdt
    try:
        asyncio.run(run(app, nodelink.feed, wdt))
    finally:
        relays_off()
        feed_at_repl(wdt)
        kbd_intr(3)  # the REPL's Ctrl-C works again
    return app


def feed_at_repl(wdt):
    """The REPL takes the port (link request, Ctrl-C, a crash): the watchdog cannot be
    stopped, so a timer keeps feeding it while mpremote works."""
    if hasattr(machine, "Timer"):
        wdtfeed.hand_over(wdt, machine.Timer(board.TIMER_ID))
