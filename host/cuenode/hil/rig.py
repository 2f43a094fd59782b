"""The node under test and the means to watch and poke it, whatever the target.

A `Rig` gives the HIL checks one vocabulary: press and release a button, record the DMX line
and chosen pins for some node time, inject a fault, cut the power. `EmulatorRig` drives the
CPython emulator's world socket (virtual time); `HardwareRig` drives a real node over its
serial link and its physical world through the HIL jig (cuenode.hil.jig); `PicoRig` boots
an emulated Pico (the real MicroPython image on rp2040js) and reads its pins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.hil import dmxline, wiring
from cuenode.hil.thresholds import Threshold, for_board
from cuenode.node import ops

ShowText = Callable[[str, str], str]  # (node id, board) -> show YAML


@dataclass
class Recording:
    start_us: float
    end_us: float
    dmx_edges: list[tuple[float, int]] = field(default_factory=list)
    pins: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # label -> edges
    dmx_packets: list[dmxline.Packet] | None = None  # decoded already (the HIL jig does)

    def packets(self) -> list[dmxline.Packet]:
        if self.dmx_packets is not None:
            return list(self.dmx_packets)
        return dmxline.decode(self.dmx_edges, self.end_us)


class Rig:
    """What every target offers; a target without a capability says why in `lacks`."""

    port = ""
    board = "emulator"
    native_usb = False
    capabilities: frozenset[str] = frozenset()
    _workdir: Path

    def __init__(self) -> None:
        self.board_data = wiring.board_data(self.board)
        overrides = self.board_data.get("HIL_THRESHOLDS")
        self.thresholds: dict[str, Threshold] = for_board(overrides)
        self.show_node = ""

    # -- capabilities ---------------------------------------------------------------------
    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def lacks(self, capability: str) -> str:
        return f"{type(self).__name__} cannot {capability}"

    # -- the node -------------------------------------------------------------------------
    def connect(self) -> ops.Session:
        return ops.connect(self.port)

    def identity(self) -> dict[str, str]:
        with self.connect() as session:
            st = ops.status(session)
        keys = ("node", "board", "fw_version", "show", "show_hash", "port")
        return {k: str(st.get(k, "")) for k in keys} | {"target": type(self).__name__}

    def load_show(self, show_text: ShowText) -> None:
        """Compile the HIL show for this node's identity and board, and push it."""
        from cuenode.build.compile import compile_file

        with self.connect() as session:
            node_id = session.info.node_id
            path = self.workdir() / "hil_show.yaml"
            path.write_text(show_text(node_id, self.board))
            blob = compile_file(path)[node_id]
            ops.push(session, blob, node_id, force_switch=True)
        self.show_node = node_id
        self.wait(100)

    def workdir(self) -> Path:
        """Where the rig keeps its files (the HIL show, captures); each target sets it."""
        return self._workdir

    def before_test(self) -> None:
        """Called before every check (an emulator re-injects its faults after a reboot)."""

    def close(self) -> None:
        pass

    # -- time and the world (targets override) --------------------------------------------
    def wait(self, ms: int) -> None:
        raise NotImplementedError

    def now_us(self) -> float:
        raise NotImplementedError

    def press(self, button: str) -> None:
        raise NotImplementedError

    def release(self, button: str) -> None:
        raise NotImplementedError

    def record(
        self,
        ms: int,
        pins: tuple[str, ...] = (),
        action: Callable[[], Any] | None = None,
        lead_ms: int = 0,
    ) -> Recording:
        """The line (and `pins`) for `ms` of node time; `action` runs after `lead_ms` of it,
        and `start_us` is when it ran."""
        raise NotImplementedError

    def arrived_us(self, sent_us: float) -> float:
        """When a link command sent at `sent_us` reached the node: the same instant where the
        link takes no node time (a virtual node); an emulated chip says when its last byte
        entered the USB receive FIFO."""
        return sent_us

    def relay_active(self, label: str) -> int:
        return int(self.board_data["RELAYS"][label][1])


class EmulatorRig(Rig):
    """A virtual node of the CPython emulator, in virtual time; its world socket is the jig."""

    board = "emulator"
    capabilities = frozenset({"world", "power", "faults"})

    def __init__(self, workdir: Path, faults: dict[str, Any] | None = None) -> None:
        from cuenode.emulator.fleet import Fleet, NodePlan

        super().__init__()
        self._workdir = workdir
        self.fleet = Fleet(workdir)
        self.node = self.fleet.add(NodePlan("hil-node", None), virtual=True)
        self.fleet.start()
        self.node.advance(ms=100)
        self.port = str(self.node.link_path)  # stays valid across reboots
        self.faults = faults or {}

    def load_show(self, show_text: ShowText) -> None:
        super().load_show(show_text)
        self.before_test()

    def before_test(self) -> None:
        if self.faults:
            self.inject(**self.faults)

    def close(self) -> None:
        self.fleet.stop()

    def wait(self, ms: int) -> None:
        self.node.advance(ms=ms)

    def now_us(self) -> float:
        return float(self.node.io.state()["now_us"])

    def press(self, button: str) -> None:
        self.node.press(button)

    def release(self, button: str) -> None:
        self.node.release(button)

    def bounce(self, button: str, ms: int) -> None:
        self.node.bounce(button, ms)

    def inject(self, **faults: Any) -> None:
        """break_us, frame_stall_us, wdt_starve=1 (the watchdog is never fed), late_pins=
        {relay: us}: the relay releases `us` late."""
        late = {
            str(self.node.gpio(k)): [us, 1 - self.relay_active(k)]
            for k, us in faults.pop("late_pins", {}).items()
        }
        self.node.io.request("fault", late_pins=late, **faults)

    def power_cycle(self) -> None:
        boots = self.node.boots
        self.node.power_cut(restore=True)
        self.node.wait_boot(boots + 1)
        self.node.advance(ms=100)

    def record(
        self,
        ms: int,
        pins: tuple[str, ...] = (),
        action: Callable[[], Any] | None = None,
        lead_ms: int = 0,
    ) -> Recording:
        io = self.node.io
        io.subscribe(dmx=True, pins=bool(pins))
        io.frames.clear()
        io.events.clear()
        if lead_ms:
            self.wait(lead_ms)
        start = self.now_us()
        if action is not None:
            action()
        self.wait(ms)
        end = self.now_us()
        io.subscribe(dmx=False, pins=False)
        rec = Recording(start, end, dmxline.edges_from_frames(io.frames))
        for label in pins:
            gpio = self.node.gpio(label)
            rec.pins[label] = [
                (float(e["t_us"]), int(e["level"]))
                for e in io.events
                if e.get("ev") == "pin" and e["gpio"] == gpio
            ]
        return rec


class HardwareRig(Rig):
    """A real node on `port`; its world is the HIL jig on `jig_port` (optional)."""

    native_usb = True

    def __init__(self, port: str, jig_port: str | None, power_relay: bool = False) -> None:
        self.port = port
        with ops.connect(port) as session:
            self.board = session.info.board or "pico"
            self.native_usb = self.board != "esp32_devkitc"  # the DevKitC has a USB-UART
        super().__init__()
        self.jig: Any = None
        if jig_port:
            from cuenode.hil.jig import Jig

            self.jig = Jig.open(jig_port, self.board_data)
            self.capabilities = frozenset({"world", "power"} if power_relay else {"world"})
        self._workdir = Path(".cuenode") / "hil"
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._t0 = time.monotonic()

    def lacks(self, capability: str) -> str:
        if capability == "world":
            return "hardware: this check needs the HIL jig (--jig PORT, see docs/hil.md)"
        if capability == "power":
            return (
                "hardware: cutting power needs the jig's power relay (wire it as docs/hil.md "
                "says and give --jig-power)"
            )
        return "hardware: fault injection exists only on an emulated node"

    def close(self) -> None:
        if self.jig is not None:
            self.jig.close()

    def wait(self, ms: int) -> None:
        time.sleep(ms / 1000)

    def now_us(self) -> float:
        if self.jig is not None:
            return self.jig.now_us()
        return (time.monotonic() - self._t0) * 1e6

    def _need_jig(self) -> Any:
        if self.jig is None:
            raise CuenodeError("no HIL jig", "give --jig PORT")
        return self.jig

    def press(self, button: str) -> None:
        self._need_jig().drive(button, pressed=True)

    def release(self, button: str) -> None:
        self._need_jig().drive(button, pressed=False)

    def record(
        self,
        ms: int,
        pins: tuple[str, ...] = (),
        action: Callable[[], Any] | None = None,
        lead_ms: int = 0,
    ) -> Recording:
        got = self._need_jig().record(ms, pins, action, lead_ms)
        return Recording(got.start_us, got.end_us, pins=got.pins, dmx_packets=got.packets)

    def power_cycle(self) -> None:
        """Cut the node's supply for a second through the jig's relay, wait for it to boot."""
        jig = self._need_jig()
        jig.power(False)
        time.sleep(1.0)
        jig.power(True)
        time.sleep(3.0)  # USB enumeration and boot.py before the link answers


class PicoRig(Rig):
    """An emulated Pico (MicroPython's RPI_PICO image on rp2040js) with the cuenode firmware,
    free-running on its simulated clock. Its runner's GPIO world is the jig: buttons are held
    low at their pins, and a recording is every edge of GPIO0 (the PIO's DMX output) and the
    relay pins, timestamped on the simulated clock. It cannot inject firmware faults."""

    board = "pico"
    capabilities = frozenset({"world", "power"})
    LINK_TIME_SCALE = 25.0  # the chip runs at ~0.2-0.5x real time: stretch the link's timeouts
    BOOTED_S = 1.5  # simulated seconds from reset to main.py answering on the link

    def __init__(self, workdir: Path, faults: dict[str, Any] | None = None) -> None:
        from cuenode.emulator.fleet import Fleet, NodePlan
        from cuenode.emulator.pico import missing_parts
        from cuenode.node import transport

        if faults:
            raise CuenodeError(
                "--inject-fault: the emulated Pico runs the real firmware image, which has no "
                "fault hooks",
                "use --target emulator to prove a check fails on an injected fault",
            )
        if missing := missing_parts():
            raise CuenodeError(
                f"the emulated Pico needs {', '.join(missing)}",
                "run `python3 dev.py test -k x` once, or use --target emulator",
            )
        super().__init__()
        transport.TIME_SCALE = max(transport.TIME_SCALE, self.LINK_TIME_SCALE)
        self._workdir = workdir
        self.fleet = Fleet(workdir, runtime="pico", speed="max")
        self.node = self.fleet.add(NodePlan("hil-node", None))
        self.fleet.start(timeout=60)
        self.port = str(self.node.link_path)  # stays valid across reboots
        self._until_booted()
        self._pressed = False

    def lacks(self, capability: str) -> str:
        if capability == "faults":
            return "emulated Pico: the real firmware image has no fault hooks (--target emulator)"
        return super().lacks(capability)

    def close(self) -> None:
        self.fleet.stop()

    def _request(self, op: str, sim_s: float = 0.0, **args: Any) -> dict[str, Any]:
        guard = 120 + 60 * sim_s  # a hang guard only: the chip may run at 1/20 of real time
        return self.node.io.request(op, timeout=guard, **args)

    def _until_booted(self) -> None:
        left_us = self.BOOTED_S * 1e6 - self.now_us()
        if left_us > 0:
            self._request("advance", left_us / 1e6, us=int(left_us))

    def wait(self, ms: int) -> None:
        self._request("advance", ms / 1000, ms=ms)

    def now_us(self) -> float:
        return float(self._request("hello")["now_us"])

    def arrived_us(self, sent_us: float) -> float:
        return max(sent_us, float(self._request("serial_rx")["last_rx_us"]))

    def press(self, button: str) -> None:
        self.node.press(button)
        self._pressed = True

    def release(self, button: str) -> None:
        self.node.release(button)

    def bounce(self, button: str, ms: int) -> None:
        self._request("bounce", gpio=self.node.gpio(button), ms=ms, level=0, seed=1)
        self._pressed = True

    def power_cycle(self) -> None:
        boots = self.node.boots
        self.node.power_cut(restore=True)
        self.node.wait_boot(boots + 1, timeout=60)
        self._until_booted()

    def record(
        self,
        ms: int,
        pins: tuple[str, ...] = (),
        action: Callable[[], Any] | None = None,
        lead_ms: int = 0,
    ) -> Recording:
        """GPIO0 and `pins` (and the buttons) as they changed on the simulated clock. When the
        action presses a button, `start_us` is that button pin's first edge."""
        from cuenode.emulator.pico import DMX_TX_GPIO

        gpios = {label: self.node.gpio(label) for label in (*pins, *self.board_data["BUTTONS"])}
        rec_id = self._request("record_begin", gpios=[DMX_TX_GPIO, *set(gpios.values())])["rec"]
        if lead_ms:
            self.wait(lead_ms)
        start = self.now_us()
        self._pressed = False
        if action is not None:
            action()
        msg = self._request("record_end", ms / 1000, rec=rec_id, at_us=int(start + ms * 1000))
        edges = {int(g): [(t / 1000, int(v)) for t, v in e] for g, e in msg["edges"].items()}
        buttons = [gpios[b] for b in self.board_data["BUTTONS"]]
        if self._pressed:
            start = min((t for g in buttons for t, _ in edges[g] if t >= start), default=start)
        rec = Recording(start, msg["t1_ns"] / 1000, edges[DMX_TX_GPIO])
        rec.pins = {label: edges[gpios[label]] for label in pins}
        return rec
