"""OSC in (python-osc): QLab's address forms fire the console's commands; every message is
answered to its sender's address and port with QLab's reply form (docs/console.md, "OSC").

OSC has no authentication: the server binds to localhost unless told otherwise, and only
senders on the allowlist are obeyed (others are logged and dropped)."""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Callable

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer

from cuenode.errors import CuenodeError

from .console import Console, Ticket

DEFAULT_PORT = 53535  # QLab listens on 53000 and may run on the same laptop
LOOPBACK = ("127.0.0.1", "::1")
CUE_START = re.compile(r"^/cue/([0-9]+(?:\.[0-9]{1,3})?)/start$")


def check_bind(bind: str, allow: tuple[str, ...]) -> tuple[str, ...]:
    """The senders to obey: loopback by default; a non-loopback bind needs an allowlist."""
    try:
        for address in (bind, *allow):
            ipaddress.ip_address(address)
    except ValueError as exc:
        raise CuenodeError(f"OSC: {exc}", "give IP addresses, like 192.168.1.20") from None
    if allow:
        return tuple(allow)
    if bind not in LOOPBACK:
        raise CuenodeError(
            f"--osc-bind {bind} opens the console to the network, and OSC has no password",
            "name the computers allowed to send with --osc-allow ADDRESS (repeatable)",
        )
    return LOOPBACK


class OscServer:
    """Listens on (bind, port) in a thread of its own; `close()` stops it."""

    def __init__(
        self, console: Console, bind: str = "127.0.0.1", port: int = DEFAULT_PORT, allow=()
    ) -> None:
        self.console = console
        self.allow = set(check_bind(bind, tuple(allow)))
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._message, needs_reply_address=True)
        try:
            self.server = ThreadingOSCUDPServer((bind, port), dispatcher)
        except OSError as exc:
            raise CuenodeError(
                f"cannot listen for OSC on {bind}:{port} ({exc.strerror})",
                "is another console running? choose another port with --osc-port",
            ) from None
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> OscServer:
        self.thread.start()
        host = self.server.server_address[0]
        self.console.log(f"OSC: listening on udp {host!s}:{self.port}")
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _message(self, sender: tuple[str, int], address: str, *args: object) -> None:
        if sender[0] not in self.allow:
            self.console.log(f"OSC: ignored {address} from {sender[0]} (not on --osc-allow)")
            return
        command = self._command(address)
        if command is None:
            self._reply(sender, address, "error", f"unknown address {address}")
            return
        self.console.log(f"OSC: {address} from {sender[0]}:{sender[1]}")
        results = command().wait()
        failed = {n: r for n, r in results.items() if not r.startswith("ok")}
        self._reply(sender, address, "error" if failed else "ok", results)

    def _command(self, address: str) -> Callable[[], Ticket] | None:
        c = self.console
        simple = {
            "/go": c.go,
            "/back": c.back,
            "/stop": c.stop,
            "/panic": c.stop,
            "/arm": lambda: c.arm(True),
            "/disarm": lambda: c.arm(False),
        }
        if address in simple:
            return simple[address]
        match = CUE_START.match(address)
        if match:
            return lambda: c.goto(match.group(1))
        return None

    def _reply(self, sender: tuple[str, int], address: str, status: str, data: object) -> None:
        """QLab's form: /reply/<address> with one JSON string argument."""
        builder = OscMessageBuilder(address="/reply" + address)
        builder.add_arg(json.dumps({"address": address, "status": status, "data": data}))
        self.server.socket.sendto(builder.build().dgram, sender)
