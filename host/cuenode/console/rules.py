"""The rules that keep a rig's cue lists linked (docs/console.md, "Rules"). Pure: events and
operator commands in, commands for nodes out. No I/O, no clock, no threads.

Cue numbers are thousandths (cue 12.5 -> 12500), as on the link; -1 means none."""

from __future__ import annotations

from dataclasses import dataclass, field

from cuefw import eventlog as ev

# What the console asks a node to do (NodeCommand.op)
GO, BACK, STOP, ARM, DISARM, SYNC = "go", "back", "stop", "arm", "disarm", "sync"

# Node events that mean "this node now runs cue b"
CUE_EVENTS = (ev.EV_GO, ev.EV_AUTO_GO, ev.EV_GOTO, ev.EV_BACK)


@dataclass(frozen=True)
class NodeCommand:
    node: str
    op: str  # GO, BACK, STOP, ARM, DISARM or SYNC (GOTO cue unless the node already runs it)
    cue: int = -1  # SYNC: the cue number
    why: str = ""  # for the console's log


@dataclass
class NodeState:
    """What the console knows of one node (from its answers, events and status)."""

    name: str
    connected: bool = False
    cue: int = -1
    next: int = -1
    stopped: bool = False


@dataclass
class Rig:
    """The rig's position: the cue every node should be running, or stopped."""

    nodes: dict[str, NodeState] = field(default_factory=dict)
    cue: int = -1
    stopped: bool = False

    def add(self, name: str) -> NodeState:
        return self.nodes.setdefault(name, NodeState(name))

    # --- what happened on a node -------------------------------------------------------------

    def node_event(self, name: str, code: int, b: int) -> list[NodeCommand]:
        """A node's event: a cue it started on its own (button, follow) or a STOP spreads to
        every other connected node; the console's own commands come back as events that
        match the rig and spread nothing."""
        node = self.add(name)
        if code in CUE_EVENTS:
            node.cue, node.stopped = b, False
            if b == self.cue and not self.stopped:
                return []
            self.cue, self.stopped = b, False
            why = f"{name}: {ev.NAMES[code]} cue {ev.cue_text(b)}"
            return self._to_others(name, SYNC, b, why)
        if code == ev.EV_STOP:
            node.stopped = True
            if self.stopped:
                return []
            self.stopped = True
            return self._to_others(name, STOP, -1, f"{name}: stop")
        return []

    def node_status(self, name: str, cue: int, next_: int, stopped: bool) -> None:
        node = self.add(name)
        node.cue, node.next, node.stopped = cue, next_, stopped

    def connected(self, name: str, cue: int, next_: int, stopped: bool) -> list[NodeCommand]:
        """A node answered (at start or after a reconnect): catch it up to the rig."""
        node = self.add(name)
        node.connected = True
        self.node_status(name, cue, next_, stopped)
        if self.stopped and not stopped:
            return [NodeCommand(name, STOP, -1, f"catch up {name}: the rig is stopped")]
        if self.cue >= 0 and not self.stopped and (cue != self.cue or stopped):
            why = f"catch up {name}: at cue {ev.cue_text(cue) or '-'}"
            return [NodeCommand(name, SYNC, self.cue, why)]
        return []

    def disconnected(self, name: str) -> None:
        self.add(name).connected = False

    def adopt(self) -> None:
        """At start: the rig stands where the first connected node stands (nothing moves)."""
        for node in self.nodes.values():
            if node.connected:
                self.cue, self.stopped = node.cue, node.stopped
                return

    # --- the operator (console keys, OSC) ----------------------------------------------------

    def go(self) -> list[NodeCommand]:
        """GO: every node to the rig's next cue. A SYNC, not a GO, so a double press (or a
        GO racing a button) can never run two cues: the second finds the cue running."""
        target = self.next_cue()
        if target < 0:
            return []
        return self.goto(target, "GO")

    def goto(self, cue: int, why: str = "") -> list[NodeCommand]:
        self.cue, self.stopped = cue, False
        why = why or f"GOTO {ev.cue_text(cue)}"
        return [NodeCommand(n, SYNC, cue, why) for n in self._live()]

    def back(self) -> list[NodeCommand]:
        """BACK on the nodes that are in step; their BACK event brings the others along."""
        return [
            NodeCommand(n, BACK, -1, "BACK")
            for n in self._live()
            if self.nodes[n].cue == self.cue and not self.nodes[n].stopped
        ] or [NodeCommand(n, BACK, -1, "BACK") for n in self._live()]

    def stop(self) -> list[NodeCommand]:
        self.stopped = True
        return [NodeCommand(n, STOP, -1, "STOP") for n in self._live()]

    def arm(self, on: bool) -> list[NodeCommand]:
        op = ARM if on else DISARM
        return [NodeCommand(n, op, -1, op.upper()) for n in self._live()]

    def next_cue(self) -> int:
        """The cue after the rig's: the `next` a node in step reports (else any node's)."""
        live = [self.nodes[n] for n in self._live()]
        in_step = [n for n in live if n.cue == self.cue and n.next >= 0]
        for node in in_step or [n for n in live if n.next >= 0]:
            return node.next
        return -1

    # --- helpers -------------------------------------------------------------------------------

    def _live(self) -> list[str]:
        return [n for n, s in self.nodes.items() if s.connected]

    def _to_others(self, origin: str, op: str, cue: int, why: str) -> list[NodeCommand]:
        return [NodeCommand(n, op, cue, why) for n in self._live() if n != origin]
