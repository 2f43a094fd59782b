"""Which nodes a command acts on: --port PORT (repeatable), --node ID, --all, or the one node
attached. Returns ports (with a name to call each by before it has answered); connecting is
fleet.py's job, in parallel, so a stuck port never delays the others."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cuenode.errors import CuenodeError
from cuenode.node.rigfile import Rig
from cuenode.node.transport import PortInfo, discover

NODES_DIR_HINT = (
    "plug a node in, or name its port with --port; nodes of `cuenode emulate --workdir DIR` "
    "are found with CUENODE_NODES_DIR=DIR/nodes"
)


class UsageProblem(CuenodeError):
    """The options do not pick nodes (exit status 2 in the CLI)."""

    exit_code = 2


@dataclass(frozen=True)
class Target:
    port: str
    name: str = ""  # what the port is known as before HELLO (an emulated node's id), or ""

    def label(self) -> str:
        return f"node '{self.name}' on {self.port}" if self.name else self.port


def _target(p: PortInfo) -> Target:
    prefix = "emulated node "
    name = p.description[len(prefix) :] if p.description.startswith(prefix) else ""
    return Target(p.device, name)


def choose(
    ports: tuple[str, ...], node_id: str | None, all_nodes: bool, rig: Rig | None = None
) -> list[Target]:
    """The ports to try. With --node ID every attached port is a candidate (its HELLO says
    who it is); fleet.run() keeps the one that answers as ID. A rig file (node.rigfile)
    names the nodes instead of discovery: --node NAME is its port, no option (or --all) is
    every node of the rig; --port still wins."""
    if ports and all_nodes:
        raise UsageProblem("give either --port or --all, not both")
    if ports:
        return [Target(p) for p in ports]
    if rig is not None:
        if node_id is None:
            return [Target(n.resolve(), n.name) for n in rig.nodes]
        named = rig.node(node_id)
        if named is not None:
            return [Target(named.resolve(), named.name)]
    found = discover()
    if not found:
        where = os.environ.get("CUENODE_NODES_DIR")
        searched = f" (searched {where})" if where else ""
        raise CuenodeError(
            f"no cuenode nodes found (no known USB boards, no emulated nodes{searched})",
            NODES_DIR_HINT,
        )
    if not node_id and not all_nodes and len(found) > 1:
        names = ", ".join(p.device for p in found)
        raise UsageProblem(f"several ports found ({names}): pick with --port, --node or --all")
    return [_target(p) for p in found]
