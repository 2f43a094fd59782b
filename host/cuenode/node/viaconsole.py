"""Reaching a node held by a running `cuenode console`: through its local socket.

While a console holds the ports, nothing else can open them (they are opened exclusively).
The console listens on a Unix socket, `.cuenode/console.sock` in its working directory
(docs/console.md, "Other commands during a show"); `connect()` here asks it first, so
`status`, `push`, `go`... work mid-show without the user doing anything.

Wire form: one JSON object a line. A request names an `op` and a `port`; every answer line is
a JSON object; the last one of a request has `"end": true`. Requests:
  {"op": "nodes"}                                  the held nodes: name, port, info
  {"op": "call", "port": P, "ftype": n, "payload": b64, "timeout", "retries", "resend_after"}
                                                   one request frame on that node's link
  {"op": "push", "port": P, "blob": b64, "show_node": s, "opts": {...}}
                                                   a push run by the console ({"progress"}
                                                   lines, then the result)
  {"op": "events", "port": P}                      the node's events as they come, until the
                                                   client closes
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.node.ops import NodeEvent, NodeInfo, Progress, PushResult, Session
from cuenode.node.transport import Reply

SOCKET_NAME = "console.sock"
CONNECT_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 120.0  # a push through the console answers progress at least this often


def socket_path(workdir: Path | None = None) -> Path:
    """Where a console started in `workdir` (default: here) listens."""
    env = os.environ.get("CUENODE_CONSOLE_SOCKET")
    if env and workdir is None:
        return Path(env)
    return (workdir or Path.cwd()) / ".cuenode" / SOCKET_NAME


def same_port(a: str, b: str) -> bool:
    """Two names of one port (a stable link and the device it points at)."""
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def info_dict(info: NodeInfo) -> dict[str, Any]:
    return asdict(info)


class ConsoleLink:
    """One connection to the console's socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(CONNECT_TIMEOUT_S)
        self.sock.connect(str(path))
        self.sock.settimeout(ANSWER_TIMEOUT_S)
        self.file = self.sock.makefile("rwb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> ConsoleLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, request: dict[str, Any]) -> None:
        self.file.write(json.dumps(request).encode() + b"\n")
        self.file.flush()

    def answers(self) -> Iterator[dict[str, Any]]:
        """Answer lines until the one that ends the request (errors raised as they come)."""
        while True:
            line = self.file.readline()
            if not line:
                raise CuenodeError(
                    "the console closed the connection", "is `cuenode console` still running?"
                )
            answer = json.loads(line)
            if "error" in answer:
                raise CuenodeError(answer["error"], answer.get("remedy"))
            yield answer
            if answer.get("end"):
                return

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.send(request)
        for answer in self.answers():
            last = answer
        return last


def _open(path: Path) -> ConsoleLink | None:
    if not path.exists():
        return None
    try:
        return ConsoleLink(path)
    except OSError:  # a socket left by a console that was killed: nobody listens
        return None


def held_nodes(path: Path | None = None) -> list[dict[str, Any]]:
    """The nodes a running console holds ([] if no console runs here)."""
    link = _open(path or socket_path())
    if link is None:
        return []
    with link:
        return link.ask({"op": "nodes"})["nodes"]


def find(port: str, path: Path | None = None) -> dict[str, Any] | None:
    """The console's entry for `port` if a console here holds it."""
    for node in held_nodes(path):
        if same_port(node["port"], port):
            return node
    return None


class ConsoleTransport:
    """Stands in for a Transport: each request goes through the console to the node."""

    baudrate = 115200

    def __init__(self, path: Path, port: str) -> None:
        self.path = path
        self.port = port

    def quick_resend(self) -> float:
        return 0.08

    def close(self) -> None:
        pass

    def _link(self) -> ConsoleLink:
        link = _open(self.path)
        if link is None:
            raise CuenodeError("the console has gone away", "run the command again")
        return link

    def request(
        self,
        ftype: int,
        payload: bytes | bytearray = b"",
        *,
        timeout: float | None = None,
        retries: int | None = None,
        resend_after: float | None = None,
    ) -> Reply | None:
        request = {
            "op": "call",
            "port": self.port,
            "ftype": ftype,
            "payload": base64.b64encode(bytes(payload)).decode(),
            "timeout": timeout,
            "retries": retries,
            "resend_after": resend_after,
        }
        with self._link() as link:
            answer = link.ask(request)
        if answer.get("status") is None:
            return None
        return Reply(answer["status"], base64.b64decode(answer["data"]))

    def push(
        self, blob: bytes, show_node: str, opts: dict[str, Any], progress: Progress | None
    ) -> PushResult:
        request = {
            "op": "push",
            "port": self.port,
            "blob": base64.b64encode(blob).decode(),
            "show_node": show_node,
            "opts": opts,
        }
        with self._link() as link:
            link.send(request)
            for answer in link.answers():
                if "progress" in answer and progress is not None:
                    progress(*answer["progress"])
        return PushResult(**answer["result"])

    def events(self) -> Iterator[NodeEvent]:
        """The node's events as the console receives them (blocks; ends when it closes)."""
        link = self._link()
        link.sock.settimeout(None)
        with link:
            link.send({"op": "events", "port": self.port})
            for answer in link.answers():
                if "event" in answer:
                    yield NodeEvent(*answer["event"])


def connect(port: str, *, baudrate: int = 115200, events: bool = False) -> Session:
    """A session with the node on `port`: through a console here that holds the port, else
    opened directly (ops.connect)."""
    from cuenode.node import ops

    path = socket_path()
    held = find(port, path)
    if held is None:
        return ops.connect(port, baudrate=baudrate, events=events)
    if not held.get("info"):
        raise CuenodeError(
            f"the console holds {port} (node '{held['name']}') but the node is not connected",
            "check its cable; the console catches it up when it answers again",
        )
    transport = ConsoleTransport(path, held["port"])
    return Session(transport, NodeInfo(**{**held["info"], "port": port}))  # type: ignore[arg-type]


def through_console(session: Session) -> ConsoleTransport | None:
    t = session.transport
    return t if isinstance(t, ConsoleTransport) else None
