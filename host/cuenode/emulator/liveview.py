"""Live terminal view of the emulated nodes (textual): cue, next cue, fade progress, the 512
DMX levels, relays with their state, buttons, frame rate. Keys press the node's buttons.

Everything shown comes from the node's world socket: the DMX line and pins (what a scope
would see) and the firmware's debug probe (cue, mode, progress: what a debugger would read).
"""

from __future__ import annotations

import io
import time
from typing import Any

from cuefw import eventlog
from cuefw import showfile as sf
from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

MODES = ("no show", "standby", "running", "stopped")
ACTION_KEYS = {sf.BTN_GO: "space", sf.BTN_BACK: "b", sf.BTN_STOP: "s"}
SHADES = " .:-=+*#%@"


def button_map(show_blob: bytes | None) -> dict[int, str]:
    """Show button action (sf.BTN_*) -> board button label, from the compiled show."""
    if not show_blob:
        return {}
    reader = sf.ShowReader(io.BytesIO(show_blob))
    out: dict[int, str] = {}
    for i in range(reader.n_buttons):
        label, action = reader.button(i)[:2]
        out.setdefault(action, label)
    return out


def relay_names(show_blob: bytes | None) -> list[str]:
    """'fog (R1)' for each relay of the compiled show, in the governor's order."""
    if not show_blob:
        return []
    reader = sf.ShowReader(io.BytesIO(show_blob))
    return [
        f"{name} ({pin})" for name, pin, *_ in (reader.relay(i) for i in range(reader.n_relays))
    ]


def fixture_lines(labels: list[tuple[str, str, int, int]], slots: bytes) -> list[str]:
    """One line per fixture: each parameter with its level (16-bit ones in full)."""
    by_fixture: dict[str, list[str]] = {}
    for fixture, param, coarse, fine in labels:
        value = slots[coarse - 1]
        if fine:
            value = (value << 8) | slots[fine - 1]
        by_fixture.setdefault(fixture, []).append(f"{param} {value}")
    return [f"  {name:<10} " + "  ".join(parts) for name, parts in by_fixture.items()]


def relay_text(names: list[str], probe: dict) -> str:
    parts = []
    states = probe.get("relays", [])
    for i, on in enumerate(states[: len(names)] if names else states):
        name = names[i] if i < len(names) else f"relay {i}"
        left = (probe.get("relay_left") or [0] * (i + 1))[i]
        state = "off"
        if on:
            state = "ON (no limit)" if left < 0 else f"ON {left / 1000:.1f} s left"
        parts.append(f"{name}: {state}")
    return "  ".join(parts)


def cue_text(thousandths: int) -> str:
    return eventlog.cue_text(thousandths) or "-"


def dmx_grid(slots: bytes) -> str:
    """512 levels as 8 rows of 64 shade characters (slot 1 top left)."""
    rows = []
    for r in range(8):
        chunk = slots[r * 64 : r * 64 + 64]
        row = "".join(SHADES[min(9, v * 10 // 256)] for v in chunk)
        rows.append(f"{r * 64 + 1:>3} |{row}|")
    return "\n".join(rows)


class NodePanel(Static):
    def __init__(
        self,
        node: Any,
        buttons: dict[int, str],
        relays: list[str] | None = None,
        labels: list[tuple[str, str, int, int]] | None = None,
    ) -> None:
        super().__init__(id=f"node-{node.node_id}")
        self.node = node
        self.buttons = buttons
        self.relay_names = relays or []
        self.labels = labels or []
        self.frames_seen: list[tuple[float, int]] = []
        self.cue_line = ""

    def refresh_from_node(self) -> None:
        try:
            state = self.node.io.state()
            frame = self.node.io.request_frame()
        except Exception as exc:  # noqa: BLE001 - a rebooting node is shown, not fatal
            self.update(f"[b]{self.node.node_id}[/b]  (no answer: {escape(str(exc))})")
            return
        probe = state.get("probe") or {}
        # An emulated Pico's frame rate is per simulated second (its clock is not the wall's).
        now = state["now_us"] / 1e6 if "sim_per_wall" in state else time.monotonic()
        self.frames_seen = [x for x in self.frames_seen if now - x[0] < 2.0]
        self.frames_seen.append((now, state["frames"]))
        t0, f0 = self.frames_seen[0]
        fps = (state["frames"] - f0) / (now - t0) if now > t0 else 0.0
        self.update(self.render_text(state, probe, frame, fps))

    def render_text(self, state: dict, probe: dict, frame: Any, fps: float) -> str:
        mode = MODES[probe["mode"]] if "mode" in probe else "booting"
        progress = probe.get("progress", 0) // 10
        bar = "#" * (progress // 5) + "-" * (20 - progress // 5)
        self.cue_line = (
            f"cue {cue_text(probe.get('cue', -1))}  next {cue_text(probe.get('next', -1))}"
        )
        relays = relay_text(self.relay_names, probe)
        armed = "ARMED" if probe.get("armed") else "safe"
        buttons = "  ".join(
            f"B{i + 1}:{'down' if b else 'up'}" for i, b in enumerate(probe.get("buttons", []))
        )
        keys = "  ".join(  # "[space]" would be read as a markup tag and vanish: escaped
            escape(f"[{ACTION_KEYS[a]}]={label}")
            for a, label in self.buttons.items()
            if a in ACTION_KEYS
        )
        grid = dmx_grid(frame.slots) if frame is not None else "(no DMX yet)"
        if frame is not None and self.labels:
            grid = "\n".join(fixture_lines(self.labels, frame.slots)) + "\n" + grid
        return (
            f"[b]{self.node.node_id}[/b]  {probe.get('show', '')}  {mode}  "
            f"{self.cue_line}  [{bar}] {progress}%  {fps:4.1f} fps  REPL: {state['repl']}\n"
            f"relays: {relays or '-'} ({armed})\nbuttons: {buttons or '-'}   {keys}\n"
            f"{speed_note(state)}{grid}"
        )


def speed_note(state: dict) -> str:
    """Emulated Picos: a line saying how simulated time runs when it is not real time."""
    from cuenode.emulator.pico.pins import speed_text

    text = speed_text(state)
    return f"[reverse]{text}[/reverse]\n" if text else ""


class LiveView(App):
    TITLE = "cuenode emulator"
    BINDINGS = [
        Binding("space", "button('go')", "GO"),
        Binding("b", "button('back')", "BACK"),
        Binding("s", "button('stop')", "STOP"),
        # priority: the screen's own Tab (focus the next widget) would take the key first
        Binding("tab", "next_node", "next node", priority=True),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        nodes: list[Any],
        shows: dict[str, bytes | None],
        refresh_s: float = 0.2,
        labels: dict[str, list[tuple[str, str, int, int]]] | None = None,
    ) -> None:
        super().__init__()
        self.nodes = nodes
        self.shows = shows
        self.labels = labels or {}
        self.refresh_s = refresh_s
        self.selected = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            for node in self.nodes:
                blob = self.shows.get(node.node_id)
                base = node.node_id.rsplit("-", 1)[0]  # extra nodes reuse their show's patch
                labels = self.labels.get(node.node_id) or self.labels.get(base)
                yield NodePanel(node, button_map(blob), relay_names(blob), labels)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_nodes()
        self.set_interval(self.refresh_s, self.refresh_nodes)

    def panels(self) -> list[NodePanel]:
        return list(self.query(NodePanel))

    def refresh_nodes(self) -> None:
        for i, panel in enumerate(self.panels()):
            panel.refresh_from_node()
            panel.styles.border = ("heavy", "yellow") if i == self.selected else ("round", "gray")

    def action_next_node(self) -> None:
        self.selected = (self.selected + 1) % max(1, len(self.nodes))
        self.refresh_nodes()

    def action_button(self, name: str) -> None:
        action = {"go": sf.BTN_GO, "back": sf.BTN_BACK, "stop": sf.BTN_STOP}[name]
        panel = self.panels()[self.selected]
        label = panel.buttons.get(action)
        if label is None:
            self.notify(f"{panel.node.node_id} has no {name.upper()} button")
            return
        node = panel.node
        node.press(label)
        self.set_timer(0.06, lambda: node.release(label))


def run_live_view(fleet: Any, labels: dict | None = None) -> None:
    shows = {n.node_id: fleet.show_blob(n.node_id) for n in fleet.nodes}
    LiveView(fleet.nodes, shows, labels=labels).run()
