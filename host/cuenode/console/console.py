"""The console: a link to every node of the rig (one NodeWorker each), the rules that keep
their cue lists in step (Rig), the operator's commands (keys, OSC, the local socket) and a
log line for every action. Only the dispatcher thread touches the Rig."""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cuefw import eventlog as ev

from cuenode.errors import CuenodeError
from cuenode.node.ops import NodeEvent, cue_thousandths

from .links import NodeWorker, Note
from .rules import CUE_EVENTS, SYNC, NodeCommand, Rig

LAST_EVENTS = 6  # per node, for the live view
TICKET_WAIT_S = 3.0


@dataclass
class Ticket:
    """An operator command in flight: done once every node it went to has answered."""

    what: str
    left: int = 0
    results: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float = TICKET_WAIT_S) -> dict[str, str]:
        self.done.wait(timeout)
        return dict(self.results)


@dataclass
class NodeView:
    """What the live view shows of one node."""

    name: str
    port: str
    connected: bool = False
    status: dict = field(default_factory=dict)
    events: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LAST_EVENTS))
    reconnects: int = 0


class Console:
    def __init__(
        self, targets: list[tuple[str, str]], baud: int = 115200, say: Callable[[str], None] = print
    ) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.rig = Rig()
        self.say = say
        self.t0 = time.monotonic()
        self.workers = {name: NodeWorker(name, port, baud, self.inbox) for name, port in targets}
        self.views = {name: NodeView(name, port) for name, port in targets}
        self.adopted = False
        self.tickets: dict[int, Ticket] = {}  # id(command) -> ticket
        self.changed = threading.Condition()  # notified after every note (tests, live view)
        self.notes = 0
        self.thread = threading.Thread(target=self._dispatch, name="console", daemon=True)
        self.running = False
        # called (node, event) for every node event, from the dispatcher (the local socket's
        # `log --follow` listens here)
        self.listeners: list[Callable[[str, NodeEvent], None]] = []
        for name in self.workers:
            self.rig.add(name)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Console:
        self.running = True
        self.thread.start()
        for worker in self.workers.values():
            worker.start()
        return self

    def close(self) -> None:
        self.running = False
        self.inbox.put(None)
        for worker in self.workers.values():
            worker.stop()
        for worker in self.workers.values():
            worker.join(timeout=2)
        self.thread.join(timeout=2)

    def __enter__(self) -> Console:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until check() holds (re-checked after every note); False at the timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.1))
        return True

    # --- the operator ------------------------------------------------------------------------

    def go(self) -> Ticket:
        return self._operator("GO", lambda rig: rig.go())

    def back(self) -> Ticket:
        return self._operator("BACK", lambda rig: rig.back())

    def stop(self) -> Ticket:
        return self._operator("STOP", lambda rig: rig.stop())

    def arm(self, on: bool = True) -> Ticket:
        return self._operator("ARM" if on else "DISARM", lambda rig: rig.arm(on))

    def goto(self, cue: str) -> Ticket:
        number = cue_thousandths(cue)
        return self._operator(f"GOTO {cue}", lambda rig: rig.goto(number))

    def _operator(self, what: str, decide: Callable[[Rig], list[NodeCommand]]) -> Ticket:
        ticket = Ticket(what)
        self.inbox.put((ticket, decide))
        return ticket

    def worker(self, name: str) -> NodeWorker:
        if name not in self.workers:
            raise CuenodeError(f"no node {name!r} in this console", "see `cuenode console` output")
        return self.workers[name]

    # --- the dispatcher ------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while self.running:
            item = self.inbox.get()
            if item is None:
                break
            try:
                if isinstance(item, Note):
                    self._note(item)
                else:
                    self._run_operator(*item)
            except Exception as exc:  # noqa: BLE001 - the console must outlive one bad note
                self.log(f"console error: {type(exc).__name__}: {exc}")
            with self.changed:
                self.notes += 1
                self.changed.notify_all()

    def _run_operator(self, ticket: Ticket, decide: Callable[[Rig], list[NodeCommand]]) -> None:
        commands = decide(self.rig)
        ticket.left = len(commands)
        if not commands:
            self.log(f"{ticket.what}: nothing to do (no node connected, or no next cue)")
            ticket.done.set()
            return
        self.log(f"{ticket.what}: {_targets(commands)}")
        for command in commands:
            self.tickets[id(command)] = ticket
            self.workers[command.node].send(command)

    def _send(self, commands: list[NodeCommand]) -> None:
        for command in commands:
            self.log(f"{command.why} -> {command.node}: {_op_text(command)}")
            self.workers[command.node].send(command)

    def _note(self, note: Note) -> None:
        handler = getattr(self, f"_on_{note.kind}")
        handler(note)

    def _on_event(self, note: Note) -> None:
        event = note.event
        assert event is not None
        view = self.views[note.node]
        view.events.appendleft(f"{event.tick} {event.text()}")
        self.log(f"{note.node}: {event.text()} (node {event.tick} ms)")
        for listener in list(self.listeners):
            listener(note.node, event)
        if event.code in CUE_EVENTS or event.code == ev.EV_STOP:
            self._send(self.rig.node_event(note.node, event.code, event.b))

    def _on_status(self, note: Note) -> None:
        self.views[note.node].status = note.status
        self.rig.node_status(note.node, *_position(note.status))

    def _on_connected(self, note: Note) -> None:
        view = self.views[note.node]
        view.reconnects += 1 if view.status else 0  # it was connected before
        view.status = note.status
        view.connected = True
        position = _position(note.status)
        self.log(
            f"{note.node}: connected on {view.port}, show {note.status.get('show') or '-'}, "
            f"cue {note.status.get('cue') or '-'} ({note.status.get('mode')})"
        )
        if not self.adopted:
            self.rig.connected(note.node, *position)
            self.rig.adopt()
            self.adopted = True
            return
        self._send(self.rig.connected(note.node, *position))

    def _on_lost(self, note: Note) -> None:
        self.views[note.node].connected = False
        self.rig.disconnected(note.node)
        self.log(f"{note.node}: link lost ({note.error}); looking for it again")

    def _on_done(self, note: Note) -> None:
        command = note.command
        assert command is not None
        result = note.result
        if "cue" in result:
            node = self.rig.add(note.node)
            node.cue, node.next = _number(result["cue"]), _number(result.get("next", ""))
            node.stopped = command.op == "stop"
        text = "already there" if result.get("already") else _result_text(result)
        self.log(f"{note.node}: {_op_text(command)} ok{': ' + text if text else ''}")
        self._finish(command, note.node, "ok" + (f" ({text})" if text else ""))

    def _on_failed(self, note: Note) -> None:
        command = note.command
        assert command is not None
        self.log(f"{note.node}: {_op_text(command)} FAILED: {note.error}")
        self._finish(command, note.node, note.error)

    def _finish(self, command: NodeCommand, node: str, text: str) -> None:
        ticket = self.tickets.pop(id(command), None)
        if ticket is None:
            return
        ticket.results[node] = text
        ticket.left -= 1
        if ticket.left <= 0:
            ticket.done.set()

    def log(self, line: str) -> None:
        self.say(f"{time.monotonic() - self.t0:9.3f} {line}")


def _number(text: str) -> int:
    return cue_thousandths(text) if text else -1


def _position(status: dict) -> tuple[int, int, bool]:
    return (
        _number(status.get("cue", "")),
        _number(status.get("next", "")),
        status.get("mode") == "stopped",
    )


def _op_text(command: NodeCommand) -> str:
    if command.op == SYNC:
        return f"cue {ev.cue_text(command.cue)}"
    return command.op.upper()


def _targets(commands: list[NodeCommand]) -> str:
    return ", ".join(f"{c.node} {_op_text(c)}" for c in commands)


def _result_text(result: dict) -> str:
    if "cue" in result:
        return f"cue {result['cue'] or '-'}, next {result.get('next') or '-'}"
    if "armed" in result:
        return "armed" if result["armed"] else "disarmed"
    return ""
