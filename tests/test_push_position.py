"""A push during a show keeps the position (issue 12): a new version of the running show
stands by at the cue that was next (or the nearest following), GO required; --from-top
starts over; another show starts at its top. Real firmware on both emulator runtimes,
virtual time (the node's clock moves only when the test advances it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import ops

REPO = Path(__file__).resolve().parent.parent
SHOW = REPO / "tests" / "data" / "console_show.yaml"
pytestmark = pytest.mark.slow


def edited(tmp_path: Path, drop: str = "", name: str = "Console test") -> bytes:
    """The console show with cue 5 at another level, cue `drop` removed, maybe renamed."""
    text = SHOW.read_text().replace("levels: {front.dimmer: 50}", "levels: {front.dimmer: 55}")
    if drop:
        text = "\n".join(x for x in text.splitlines() if f"{{cue: {drop}," not in x)
    text = text.replace("name: Console test", f"name: {name}")
    path = tmp_path / f"edited{drop}{name.replace(' ', '')}.yaml"
    path.write_text(text)
    return compile_file(path)["stage"]


def level(node) -> int:
    frame = node.io.request_frame()
    return frame.slots[0] if frame is not None else -1


@pytest.fixture(scope="module", params=["cpython", "micropython"])
def node(request, tmp_path_factory):
    with Fleet(tmp_path_factory.mktemp("emu"), runtime=request.param) as fleet:
        vnode = fleet.add(NodePlan("stage", compile_file(SHOW)["stage"]), virtual=True)
        fleet.start()
        vnode.advance(ms=300)
        yield vnode


def test_a_new_version_of_the_running_show_stands_by_at_the_same_next_cue(node, tmp_path):
    with ops.connect(node.tty) as s:
        assert ops.goto(s, "4") == {"cue": "4", "next": "5"}
        node.advance(ms=30)
        result = ops.push(s, edited(tmp_path), "stage")
        assert result.switched
        assert result.position == {"next": "5", "was_next": "5", "kept": "same"}
        st = ops.status(s)
        assert (st["mode"], st["cue"], st["next"]) == ("standby", "", "5")
        node.advance(ms=30)
        assert level(node) == 40  # the look on stage stays until GO
        node.advance(ms=400)  # past GO protection
        assert ops.go(s)["cue"] == "5"
        node.advance(ms=30)
        assert level(node) == 55  # the new version's cue 5


def test_a_removed_next_cue_stands_by_at_the_nearest_following_one(node, tmp_path):
    with ops.connect(node.tty) as s:
        ops.goto(s, "5")
        node.advance(ms=400)
        result = ops.push(s, edited(tmp_path, drop="6"), "stage")
        assert result.position == {"next": "7", "was_next": "6", "kept": "following"}
        node.advance(ms=400)
        assert ops.go(s)["cue"] == "7"


def test_from_top_and_another_show_start_at_the_top(node, tmp_path):
    with ops.connect(node.tty) as s:
        ops.goto(s, "8")
        node.advance(ms=400)
        result = ops.push(s, edited(tmp_path), "stage", from_top=True)
        assert result.position == {"next": "1", "kept": "top"}
        ops.goto(s, "8")
        node.advance(ms=400)
        result = ops.push(s, edited(tmp_path, name="Another show"), "stage")
        assert result.position == {"next": "1", "kept": "top"}
        assert ops.status(s)["next"] == "1"
