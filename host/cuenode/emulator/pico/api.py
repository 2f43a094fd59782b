"""A small Python API over one emulated Pico, for tests and measurements.

    with EmulatedPico(workdir, image=prepared_image(cache, "pico-1")) as chip:
        chip.exec("print(1 + 1)")            # through the pty with the real mpremote
        chip.press(6); chip.wait_sim(0.05); chip.release(6)   # GPIO6 = B1 on boards/pico.py
        dmx = chip.record([0], 1.0)[0]       # GPIO0 edges for 1 simulated second
        chip.sim_time()                      # simulated seconds since this boot

It is one node of the emulator's supervisor, so the pty, resets (machine.reset(), the
watchdog: the chip restarts from its drive image) and power cuts behave as for any node.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from cuenode.emulator.pico.image import blank_image, install_image, read_files
from cuenode.emulator.pico.pins import PinTrace, record
from cuenode.emulator.supervisor import NodeConfig, Supervisor, VirtualNode

MPREMOTE_GUARD_S = 300.0  # wall-clock hang guard for one mpremote run (not a speed claim)


class EmulatedPico:
    def __init__(
        self,
        workdir: str | Path,
        node_id: str = "pico",
        image: Path | bytes | None = None,
        speed: str = "max",
        virtual: bool = False,
    ) -> None:
        """Boot from `image` (a drive image file or its bytes; None: a blank, new Pico)."""
        self.sup = Supervisor(workdir)
        self.node: VirtualNode = self.sup.add(NodeConfig(node_id, virtual, 0, "pico", speed))
        install_image(blank_image() if image is None else image, self.node.flash_image)

    # -- power ---------------------------------------------------------------------------
    def start(self) -> EmulatedPico:
        self.sup.start(self.node)
        self.node.world(timeout=30).close()
        return self

    def stop(self) -> None:
        self.sup.stop()

    def __enter__(self) -> EmulatedPico:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def power_cut(self, restore: bool = True) -> None:
        self.node.power_cut(restore)

    @property
    def port(self) -> str:
        """The node's serial device (a pty), as /dev/ttyACM0 is for a real Pico."""
        return self.node.tty

    @property
    def boots(self) -> int:
        return self.node.boots

    # -- the USB serial ------------------------------------------------------------------
    def mpremote(self, *args: str, timeout: float = MPREMOTE_GUARD_S) -> str:
        """Run the real mpremote on the chip's pty; its stdout (RuntimeError if it failed)."""
        cmd = [sys.executable, "-m", "mpremote", "connect", self.port, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"mpremote {' '.join(args)}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def exec(self, code: str, timeout: float = MPREMOTE_GUARD_S) -> str:
        """Run MicroPython code on the chip (raw REPL, interrupting main.py); its output."""
        return self.mpremote("exec", code, timeout=timeout)

    # -- the world -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return self.node.io.state()

    def sim_time(self) -> float:
        """Simulated seconds since this boot (the chip's own clock)."""
        return int(self.node.io.request("hello")["now_us"]) / 1e6

    def wait_sim(self, seconds: float) -> float:
        """Return once `seconds` of simulated time have passed (virtual: run that far)."""
        guard = 120 + 60 * seconds
        return (
            int(self.node.io.request("advance", timeout=guard, us=int(seconds * 1e6))["now_us"])
            / 1e6
        )

    def until_sim(self, seconds: float) -> float:
        """Return once this boot's simulated clock reads `seconds` (e.g. 1.5: main.py is up)."""
        return self.wait_sim(max(0.0, seconds - self.sim_time()))

    def press(self, gpio: int) -> None:
        """Hold a pin low from outside (a button to ground), until release()."""
        self.node.io.drive(gpio, 0)

    def release(self, gpio: int) -> None:
        """Let the pin go: its pull (or what the chip drives) decides again."""
        self.node.io.drive(gpio, None)

    def level(self, gpio: int) -> int:
        """What a pin reads from outside now: a relay, an LED, the DMX line."""
        return int(self.state()["pins"][str(gpio)])

    def record(self, gpios: list[int], seconds: float) -> dict[int, PinTrace]:
        """Every level change of `gpios` over the next `seconds` of simulated time."""
        return record(self.node.io, gpios, seconds)

    def files(self) -> dict[str, bytes]:
        """The files on the chip's drive as they are on disk now (read with littlefs)."""
        return read_files(self.node.flash_image.read_bytes())
