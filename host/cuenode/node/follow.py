"""`cuenode log --follow`: a node's event log, then its events as they happen (the node's
event frames, docs/protocol.md "Events"; through a running console, its relay of them).
Every node in a thread of its own, until `stop` is set."""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cuefw import link

from cuenode.errors import CuenodeError
from cuenode.node import ops, viaconsole
from cuenode.node.select import Target

EVENT_WAIT_S = 0.3  # how often a direct follower looks at `stop`


@dataclass(frozen=True)
class Line:
    node: str
    t_ms: int
    text: str
    error: bool = False

    def human(self) -> str:
        if self.error:
            return f"{self.node}: {self.text}"
        return f"{self.node} {self.t_ms // 1000:>6}.{self.t_ms % 1000:03d}  {self.text}"

    def as_json(self) -> str:
        key = "error" if self.error else "text"
        return json.dumps({"node": self.node, "t_ms": self.t_ms, key: self.text})


Emit = Callable[[Line], None]


def history(session: ops.Session, since: int, emit: Emit) -> int:
    """Emit the log from entry `since`; the number of the next entry."""
    name = session.info.node_id or session.info.port
    while True:
        page = json.loads(session.call(link.T_LOG, struct.pack("<IH", since, 64)))
        for t_ms, text in page["events"]:
            emit(Line(name, t_ms, text))
        if not page["events"] or page["next"] <= since:
            return since
        since = page["next"]


def follow_session(session: ops.Session, since: int, emit: Emit, stop: threading.Event) -> None:
    """History, then every new event until `stop` (events already in the history skipped)."""
    name = session.info.node_id or session.info.port
    upto = history(session, since, emit)
    remote = viaconsole.through_console(session)
    stream = remote.events() if remote is not None else _direct(session, stop)
    for event in stream:
        if event.number >= upto:
            emit(Line(name, event.tick, event.text()))
        if stop.is_set():
            return


def _direct(session: ops.Session, stop: threading.Event):
    while not stop.is_set():
        yield from ops.events(session, timeout=EVENT_WAIT_S)


def follow(targets: list[Target], baud: int, since: int, emit: Emit) -> threading.Event:
    """Follow every target in a daemon thread; set the returned event to stop them."""
    stop = threading.Event()
    for target in targets:
        threading.Thread(
            target=_follow_one, args=(target, baud, since, emit, stop), daemon=True
        ).start()
    return stop


def _follow_one(target: Target, baud: int, since: int, emit: Emit, stop: threading.Event) -> None:
    try:
        with viaconsole.connect(target.port, baudrate=baud, events=True) as session:
            follow_session(session, since, emit, stop)
    except CuenodeError as exc:
        emit(Line(target.name or target.port, 0, exc.format_message(), error=True))
