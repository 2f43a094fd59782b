"""One thread per node: holds the link (a subscribed session), reads its event frames, runs
the console's commands in order, reads its status, and reconnects when the node goes away.

Everything a worker learns goes to the console's inbox as a `Note`; the console decides
(cuenode.console.rules) and hands commands back with `send()`."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cuefw import eventlog as ev

from cuenode.errors import CuenodeError
from cuenode.node import ops
from cuenode.node.ops import NodeEvent, Session

from .rules import ARM, BACK, DISARM, GO, STOP, SYNC, NodeCommand

STATUS_EVERY_S = 0.5  # status refresh for the live view and link health
RECONNECT_EVERY_S = 0.3  # a node that went away is looked for this often


@dataclass
class Note:
    """What a worker tells the console. kind: 'event', 'status', 'connected', 'lost',
    'done' (a command answered), 'failed' (a command refused or unanswered)."""

    node: str
    kind: str
    event: NodeEvent | None = None
    status: dict = field(default_factory=dict)
    command: NodeCommand | None = None
    result: dict = field(default_factory=dict)
    error: str = ""


class NodeWorker(threading.Thread):
    def __init__(self, name: str, port: str, baud: int, inbox: queue.Queue) -> None:
        super().__init__(name=f"console-{name}", daemon=True)
        self.node = name
        self.port = port
        self.baud = baud
        self.inbox = inbox
        self.commands: queue.Queue[NodeCommand] = queue.Queue()
        self.session: Session | None = None
        self.running = True
        self.lock = threading.Lock()  # the session is also used by the local socket's calls
        self.requests = 0
        self.failures = 0
        self.last_answer = 0.0  # monotonic time of the last good answer (link health)
        self.status_due = False
        self.callers = 0  # local-socket calls waiting for the link

    # --- called from other threads ---------------------------------------------------------

    def send(self, command: NodeCommand) -> None:
        self.commands.put(command)
        self._wake()

    def call(self, fn: Callable[[Session], Any]) -> Any:
        """Run fn(session) on this node's link between the worker's own requests."""
        self.callers += 1  # the worker's event wait gives way (_has_work)
        try:
            self._wake()
            with self.lock:
                if self.session is None:
                    raise CuenodeError(f"{self.node} is not connected", "check its cable")
                return fn(self.session)
        finally:
            self.callers -= 1

    def refresh_soon(self) -> None:
        """Read the node's status at the next turn of the loop (after a push through us)."""
        self.status_due = True
        self._wake()

    def stop(self) -> None:
        self.running = False
        self._wake()

    def _wake(self) -> None:
        ser = self.session.transport.ser if self.session is not None else None
        cancel = getattr(ser, "cancel_read", None)
        if cancel is not None:
            try:
                cancel()  # the worker waits in a serial read: make it look at its queue now
            except Exception:  # noqa: BLE001 - a closing port; the worker finds out itself
                pass

    # --- the worker's loop -------------------------------------------------------------------

    def run(self) -> None:
        while self.running:
            if self.session is None and not self._connect():
                time.sleep(RECONNECT_EVERY_S)
                continue
            try:
                self._serve()
            except CuenodeError as exc:
                self._lost(exc.message)
        self._close()

    def _serve(self) -> None:
        next_status = time.monotonic()
        while self.running:
            try:
                self._run(self.commands.get_nowait())
                continue
            except queue.Empty:
                pass
            with self.lock:
                assert self.session is not None
                events = ops.events(self.session, timeout=0.05, until=self._has_work)
            for event in events:
                self.inbox.put(Note(self.node, "event", event=event))
            if self.status_due or any(e.code in _REFRESH_AFTER for e in events):
                next_status, self.status_due = 0.0, False
            if time.monotonic() >= next_status:
                self._status()
                next_status = time.monotonic() + STATUS_EVERY_S

    def _has_work(self) -> bool:
        """Stop waiting for events: a command is queued, a status is due, or we stop."""
        return not self.commands.empty() or self.status_due or self.callers > 0 or not self.running

    def _connect(self) -> bool:
        try:
            session = ops.connect(self.port, baudrate=self.baud, events=True)
        except CuenodeError:
            return False
        with self.lock:
            self.session = session
        try:
            status = self._status(report=False)
        except CuenodeError as exc:
            self._lost(exc.message)
            return False
        self.inbox.put(Note(self.node, "connected", status=status))
        return True

    def _status(self, report: bool = True) -> dict:
        with self.lock:
            assert self.session is not None
            status = ops.status(self.session)
        self.last_answer = time.monotonic()
        if report:
            self.inbox.put(Note(self.node, "status", status=status))
        return status

    def _run(self, command: NodeCommand) -> None:
        self.requests += 1
        try:
            with self.lock:
                assert self.session is not None
                result = _COMMANDS[command.op](self.session, command)
        except CuenodeError as exc:
            if "not answering" in exc.message or "lost the connection" in exc.message:
                raise
            self.failures += 1
            self.inbox.put(Note(self.node, "failed", command=command, error=exc.message))
            return
        self.last_answer = time.monotonic()
        self.inbox.put(Note(self.node, "done", command=command, result=result))

    def _lost(self, why: str) -> None:
        self._close()
        self.inbox.put(Note(self.node, "lost", error=why))

    def _close(self) -> None:
        with self.lock:
            if self.session is not None:
                self.session.close()
                self.session = None


# after these a node's `next` (or show) has changed: read its status at once
_REFRESH_AFTER = (
    ev.EV_GO,
    ev.EV_BACK,
    ev.EV_GOTO,
    ev.EV_STOP,
    ev.EV_RESUME,
    ev.EV_AUTO_GO,
    ev.EV_SHOW_LOADED,
)


_COMMANDS: dict[str, Callable[[Session, NodeCommand], dict]] = {
    GO: lambda s, c: ops.go(s),
    BACK: lambda s, c: ops.back(s),
    STOP: lambda s, c: ops.stop(s),
    ARM: lambda s, c: ops.arm(s),
    DISARM: lambda s, c: ops.disarm(s),
    SYNC: lambda s, c: ops.goto_sync(s, c.cue),
}
