"""One stuck node must not delay the others (issue 11): `cuenode.node.fleet` connects to and
acts on every node in its own thread, so STOP --all reaches each healthy node as soon as it
has answered HELLO. Asserts the order of events (the healthy nodes' STOP is done before the
node at the REPL has been diagnosed), not times; bench/bench_stop_all.py measures them."""

from __future__ import annotations

import pytest
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import fleet, ops
from cuenode.node.select import Target
from repl_states import take_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_stop_all_reaches_healthy_nodes_before_the_stuck_one_is_given_up(tmp_path):
    with Fleet(tmp_path / "emu") as fl:
        nodes = [fl.add(NodePlan(f"n{k}", None)) for k in range(3)]
        fl.start()
        take_port(nodes[0].tty)  # node n0 sits at the REPL: it never answers HELLO
        order: list[str] = []
        outcomes = fleet.run(
            [Target(n.tty, n.node_id) for n in nodes],
            ops.stop,
            on_done=lambda o: order.append(o.node),
        )
    assert order[-1] == "n0", order  # the stuck node is the last to finish
    assert [o.ok for o in outcomes] == [False, True, True]
    assert "at the MicroPython REPL" in outcomes[0].error
    err = fleet.summary_error("STOP", outcomes)
    assert err is not None and "node 'n0'" in err.message


def test_node_option_picks_the_one_node_and_skips_the_others():
    class FakeSession:
        def __init__(self, node_id: str) -> None:
            self.info = type("I", (), {"node_id": node_id})()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    def connect(port: str, baudrate: int = 0):
        return FakeSession({"p1": "left", "p2": "right"}[port])

    outcomes = fleet.run(
        [Target("p1"), Target("p2")], lambda s: "done", node_id="right", connect=connect
    )
    picked = fleet.chosen(outcomes, "right")
    assert [(o.port, o.result) for o in picked] == [("p2", "done")]
    with pytest.raises(Exception, match="no attached node is 'nobody'"):
        fleet.chosen(
            fleet.run([Target("p1")], lambda s: 1, node_id="nobody", connect=connect), "nobody"
        )
