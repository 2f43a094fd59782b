"""Run one operation on many nodes in parallel: connect, check identity, act, close, each
port in its own thread, so the operation reaches every healthy node as soon as that node has
answered HELLO, whatever another node does (a STOP --all is not held up by a node sitting at
the REPL). Used by the CLI; the console and the HIL suite can use it too."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.node import ops, viaconsole
from cuenode.node.select import Target

MAX_THREADS = 32  # every port its own thread: none waits behind a stuck one


@dataclass
class Outcome:
    """What happened on one port: its result, or the error (naming the node if known)."""

    port: str
    node: str = ""
    result: Any = None
    error: str = ""
    skipped: bool = False  # --node ID: this port is another node (not a failure)

    @property
    def ok(self) -> bool:
        return not self.error

    def label(self) -> str:
        return f"node '{self.node}' on {self.port}" if self.node else self.port

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"port": self.port, "node": self.node or None, "ok": self.ok}
        if self.ok:
            out["result"] = self.result
        else:
            out["error"] = self.error
        return out


Op = Callable[[ops.Session], Any]


def run(
    targets: list[Target],
    op: Op,
    *,
    baud: int = 115200,
    node_id: str | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    connect: Callable[..., ops.Session] = viaconsole.connect,
) -> list[Outcome]:
    """`op` on every target (only on node `node_id` if given), in parallel; one Outcome per
    target in the targets' order, `on_done` called as each finishes (from its thread).
    A port held by a running console is reached through it (node.viaconsole)."""
    return on_ports(targets, lambda t: _run_one(t, op, baud, node_id, connect), on_done)


def on_ports(
    targets: list[Target],
    one: Callable[[Target], Outcome],
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """`one(target)` for every target, each in its own thread (up to MAX_THREADS)."""
    lock = threading.Lock()

    def call(target: Target) -> Outcome:
        outcome = one(target)
        if on_done is not None and not outcome.skipped:
            with lock:
                on_done(outcome)
        return outcome

    if len(targets) <= 1:
        return [call(t) for t in targets]
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(targets))) as pool:
        return list(pool.map(call, targets))


def _run_one(
    target: Target, op: Op, baud: int, node_id: str | None, connect: Callable[..., ops.Session]
) -> Outcome:
    outcome = Outcome(target.port, target.name)
    try:
        session = connect(target.port, baudrate=baud)
    except CuenodeError as exc:
        outcome.error = exc.format_message()
        return outcome
    with session:
        outcome.node = session.info.node_id or target.name
        if node_id is not None and session.info.node_id != node_id:
            outcome.skipped = True
            return outcome
        try:
            outcome.result = op(session)
        except CuenodeError as exc:
            outcome.error = exc.format_message()
    return outcome


def chosen(outcomes: list[Outcome], node_id: str | None) -> list[Outcome]:
    """The outcomes that count: with --node ID, the port that is ID (an error if none is)
    plus ports that failed before saying who they are (they might have been ID)."""
    if node_id is None:
        return outcomes
    hits = [o for o in outcomes if not o.skipped and o.ok]
    if not hits:
        failed = [o for o in outcomes if not o.ok]
        if failed:
            return failed
        raise CuenodeError(
            f"no attached node is '{node_id}'",
            "check `cuenode status --all` for the nodes and their identities",
        )
    return hits


def summary_error(what: str, outcomes: list[Outcome]) -> CuenodeError | None:
    """One line naming every node the command did not reach or that refused it."""
    bad = [o for o in outcomes if not o.ok]
    if not bad or len(outcomes) == 1:
        return None
    names = ", ".join(o.label() for o in bad)
    return CuenodeError(f"{what} failed on {len(bad)} of {len(outcomes)} node(s): {names}")
