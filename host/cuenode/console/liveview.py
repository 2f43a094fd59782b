"""The console's live view (textual): one panel per node — cue, next cue, fade progress,
relays and armed state, DMX rate, link health, last events — and the rig's position. Keys act
on the whole rig through the console (the same commands as OSC and --headless scripts)."""

from __future__ import annotations

import time

from cuefw import eventlog
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Footer, Header, Static

from .console import Console, NodeView

STALE_S = 2.0  # no answer for this long: the link is shown as silent


def bar(pct: int) -> str:
    pct = max(0, min(100, pct))
    return "#" * (pct // 5) + "-" * (20 - pct // 5)


def relays_text(status: dict) -> str:
    parts = []
    for name, on, left in status.get("relays", []):
        state = "off"
        if on:
            state = "ON" if left < 0 else f"ON {left / 1000:.1f}s"
        parts.append(f"{name} {state}")
    return "  ".join(parts) or "-"


def health_text(view: NodeView, last_answer: float, failures: int, now: float) -> str:
    if not view.connected:
        return "[red]LOST: reconnecting[/red]"
    link = view.status.get("link", {})
    errors = sum(link.get(k, 0) for k in ("crc", "escape", "overflow", "runt"))
    age = now - last_answer if last_answer else 0.0
    state = "ok" if age < STALE_S else f"silent {age:.0f}s"
    return f"{state}, {errors} bad frames, {failures} refused, {view.reconnects} reconnects"


def panel_text(view: NodeView, last_answer: float, failures: int, now: float) -> str:
    st = view.status
    armed = "[b red]ARMED[/b red]" if st.get("armed") else "safe"
    events = "\n".join(f"   {line}" for line in list(view.events)[:4]) or "   -"
    return (
        f"[b]{view.name}[/b]  {view.port}  show {st.get('show') or '-'}  "
        f"{st.get('mode', '?')}\n"
        f" cue {st.get('cue') or '-'}  next {st.get('next') or '-'}  "
        f"[{bar(st.get('progress_pct', 0))}] {st.get('progress_pct', 0)}%  "
        f"DMX {st.get('dmx_fps', 0)} fps\n"
        f" relays: {relays_text(st)}  ({armed})\n"
        f" link: {health_text(view, last_answer, failures, now)}\n"
        f" last events:\n{events}"
    )


class NodePanel(Static):
    def __init__(self, console: Console, name: str) -> None:
        super().__init__(id=f"node-{name}")
        self.cue_console = console  # not `console`: textual widgets have their own
        self.node = name

    def refresh_from_console(self) -> None:
        worker = self.cue_console.workers[self.node]
        view = self.cue_console.views[self.node]
        self.update(panel_text(view, worker.last_answer, worker.failures, time.monotonic()))


class ConsoleView(App):
    TITLE = "cuenode console"
    BINDINGS = [
        Binding("space", "go", "GO"),
        Binding("b", "back", "BACK"),
        Binding("s", "stop", "STOP"),
        Binding("a", "arm", "ARM"),
        Binding("d", "disarm", "DISARM"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, console: Console, lines=None, refresh_s: float = 0.2) -> None:
        super().__init__()
        self.cue_console = console
        self.lines = lines if lines is not None else []  # the console's log, newest last
        self.refresh_s = refresh_s

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="rig")
        with VerticalScroll():
            for name in self.cue_console.views:
                yield NodePanel(self.cue_console, name)
        yield Static(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_all()
        self.set_interval(self.refresh_s, self.refresh_all)

    def refresh_all(self) -> None:
        try:
            self._refresh_all()
        except NoMatches:  # the screen is closing: nothing left to draw
            pass

    def _refresh_all(self) -> None:
        rig = self.cue_console.rig
        where = "STOPPED" if rig.stopped else f"cue {eventlog.cue_text(rig.cue) or '-'}"
        nxt = eventlog.cue_text(rig.next_cue()) or "-"
        self.query_one("#rig", Static).update(
            f"[b]rig[/b]: {where}, next {nxt}   keys act on every node"
        )
        for panel in self.query(NodePanel):
            panel.refresh_from_console()
        self.query_one("#log", Static).update("\n".join(list(self.lines)[-6:]))

    def action_go(self) -> None:
        self.cue_console.go()

    def action_back(self) -> None:  # type: ignore[override]  # textual's is a coroutine
        self.cue_console.back()

    def action_stop(self) -> None:
        self.cue_console.stop()

    def action_arm(self) -> None:
        self.cue_console.arm(True)

    def action_disarm(self) -> None:
        self.cue_console.arm(False)
