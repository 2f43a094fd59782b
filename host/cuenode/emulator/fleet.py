"""A set of virtual nodes with the firmware (and optionally a show) flashed: what
`cuenode emulate`, the tests and the HIL suite start."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from cuenode.build.image import ID_FILE, stage_image
from cuenode.emulator.supervisor import NodeConfig, Supervisor, VirtualNode
from cuenode.errors import CuenodeError
from cuenode.show.model import Show

SHOW_FILE = "show.bin"  # cuefw.store.LIVE


@dataclass(frozen=True)
class NodePlan:
    node_id: str
    show: bytes | None  # compiled show to preload, or None


def plan_nodes(count: int, shows: dict[str, bytes] | None) -> list[NodePlan]:
    """Node ids and shows: the show's nodes first; extra nodes reuse them as `<id>-2`, ..."""
    if not shows:
        return [NodePlan(f"node-{k + 1}", None) for k in range(count)]
    ids = sorted(shows)
    plans = []
    for k in range(count):
        base = ids[k % len(ids)]
        round_ = k // len(ids)
        plans.append(NodePlan(base if round_ == 0 else f"{base}-{round_ + 1}", shows[base]))
    return plans


def fixture_labels(show: Show) -> dict[str, list[tuple[str, str, int, int]]]:
    """(fixture, parameter, coarse slot, fine slot) per show node, for the live view."""
    from cuenode.build.compiler import param_slots

    return {
        node_id: [(p.fixture, p.param, p.coarse, p.fine) for p in param_slots(show, node)]
        for node_id, node in show.nodes.items()
    }


def flash_node(flash_dir: Path, node_id: str, show: bytes | None, fresh: bool = True) -> None:
    """Erase (if fresh) and write firmware, identity and show, as `cuenode flash` would.
    Not fresh (--keep-flash): the firmware is updated, the name and show on flash are kept."""
    if fresh and flash_dir.exists():
        shutil.rmtree(flash_dir)
    kept = None if fresh else kept_name(flash_dir)
    stage_image(flash_dir, "emulator", kept or node_id)
    if show is not None:
        (flash_dir / SHOW_FILE).write_bytes(show)


def kept_name(flash_dir: Path) -> str | None:
    """The name on a node's flash (given by `cuenode flash --name`), if it has one."""
    try:
        return (flash_dir / ID_FILE).read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


class Fleet:
    def __init__(
        self, workdir: str | Path, runtime: str = "cpython", speed: str = "realtime"
    ) -> None:
        if runtime not in ("cpython", "micropython", "pico"):
            raise CuenodeError(
                f"--runtime {runtime} is not implemented yet (see docs/emulator.md, Runtimes)",
                "use --runtime cpython (the default)",
            )
        self.sup = Supervisor(workdir)
        self.runtime = runtime
        self.speed = speed  # emulated Picos: "realtime" or "max"
        self.nodes: list[VirtualNode] = []
        self.plans: dict[str, NodePlan] = {}

    def add(
        self, plan: NodePlan, virtual: bool = False, baud: int = 0, fresh: bool = True
    ) -> VirtualNode:
        config = NodeConfig(plan.node_id, virtual, baud, self.runtime, self.speed)
        node = self.sup.add(config)
        if self.runtime == "pico":
            from cuenode.emulator.pico.fleet import flash_pico

            flash_pico(node, plan.node_id, plan.show, fresh)
        else:
            flash_node(node.flash_dir, plan.node_id, plan.show, fresh)
        self.nodes.append(node)
        self.plans[plan.node_id] = plan
        return node

    def show_blob(self, node_id: str) -> bytes | None:
        return self.plans[node_id].show

    def start(self, wait: bool = True, timeout: float = 20.0) -> float:
        """Power every node on; returns seconds until all answer on their world socket."""
        t0 = time.monotonic()
        for node in self.nodes:
            self.sup.start(node)
        if wait:
            for node in self.nodes:
                node.world(timeout=timeout).close()
        return time.monotonic() - t0

    def node(self, node_id: str) -> VirtualNode:
        return self.sup.nodes[node_id]

    def stop(self) -> None:
        self.sup.stop()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
