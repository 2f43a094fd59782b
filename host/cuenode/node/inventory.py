"""`cuenode nodes`: what is attached — every port found (USB boards, emulated nodes) and every
node of the rig file, each asked who it is in parallel (a stuck port delays no other)."""

from __future__ import annotations

from typing import Any

from cuenode.node import fleet, ops, viaconsole
from cuenode.node.rigfile import Rig
from cuenode.node.select import Target, _target
from cuenode.node.transport import discover


def candidates(rig: Rig | None) -> list[Target]:
    """The rig's nodes (by name), then every discovered port not already among them."""
    out = [Target(n.resolve(), n.name) for n in rig.nodes] if rig is not None else []
    for port in discover():
        if not any(viaconsole.same_port(t.port, port.device) for t in out):
            out.append(_target(port))
    return out


def _identity(session: ops.Session) -> dict[str, Any]:
    info = session.info
    return {
        "node": info.node_id,
        "board": info.board,
        "firmware": info.fw_version,
        "show": info.show_name,
        "show_hash": info.show_hash,
        "via_console": viaconsole.through_console(session) is not None,
    }


def attached(rig: Rig | None, baud: int) -> list[dict[str, Any]]:
    """One entry per port: port, rig name, and what the node said (or the error)."""
    targets = candidates(rig)
    rig_names = {t.port: t.name for t in targets[: len(rig.nodes)]} if rig is not None else {}
    entries = []
    for target, outcome in zip(targets, fleet.run(targets, _identity, baud=baud), strict=True):
        entry: dict[str, Any] = {"port": target.port, "rig_name": rig_names.get(target.port, "")}
        if outcome.ok:
            entry.update(ok=True, **outcome.result)
        else:
            entry.update(ok=False, node=outcome.node or None, error=outcome.error)
        entries.append(entry)
    return entries
