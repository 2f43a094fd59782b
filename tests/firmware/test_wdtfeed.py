# cuefw.wdtfeed: the watchdog is fed by a timer while nothing else feeds it (boot, REPL).
# Stand-ins for machine.WDT and machine.Timer; CPython and MicroPython.
from cuefw import wdtfeed


class FakeWdt:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class FakeTimer:
    PERIODIC = 1

    def __init__(self):
        self.callback = None
        self.period = 0

    def init(self, mode=0, period=0, callback=None):
        assert mode == self.PERIODIC
        self.period, self.callback = period, callback

    def deinit(self):
        self.callback = None

    def fire(self):
        if self.callback is not None:
            self.callback(self)


def test_hand_over_feeds_from_the_timer_until_taken_back():
    wdt, timer = FakeWdt(), FakeTimer()
    wdtfeed.hand_over(wdt, timer)
    assert wdtfeed.feeding() and wdtfeed.watchdog() is wdt
    assert 0 < timer.period < 1000  # well inside a 2 s watchdog
    timer.fire()
    timer.fire()
    assert wdt.feeds == 2
    wdtfeed.take_back()
    timer.fire()
    assert wdt.feeds == 2 and not wdtfeed.feeding()
    assert wdtfeed.watchdog() is wdt  # main.py keeps using the same watchdog


def test_a_new_hand_over_stops_the_old_timer():
    wdt, first, second = FakeWdt(), FakeTimer(), FakeTimer()
    wdtfeed.hand_over(wdt, first)
    wdtfeed.hand_over(wdt, second)
    first.fire()
    assert wdt.feeds == 0
    second.fire()
    assert wdt.feeds == 1
    wdtfeed.take_back()
