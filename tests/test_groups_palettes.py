"""Groups, ranges and palettes: resolved to per-fixture levels, and every mistake reported
once at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from cuenode.build.compiler import node_shows
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.groups import BadTarget, parse_range
from cuenode.show.load import load_show

HEAD = """\
show: {name: Groups, version: 1}
fixture_types:
  dim: {channels: {dimmer: 1}}
  rgb: {channels: {red: 1, green: 2, blue: 3}}
  head: {channels: {dimmer: 1, pan: [2, 3], tilt: [4, 5]}}
fixtures:
  d1: {type: dim, address: 1}
  d2: {type: dim, address: 2}
  d3: {type: dim, address: 3}
  p1: {type: rgb, address: 10}
  p2: {type: rgb, address: 13}
  m1: {type: head, address: 20}
"""
NODES = """\
nodes:
  n1: {board: pico, fixtures: [d1, d2, d3, p1, p2, m1]}
"""


def load(tmp_path: Path, body: str, nodes: str = NODES):
    path = tmp_path / "show.yaml"
    path.write_text(HEAD + body + nodes)
    return load_show(path)


def problems(tmp_path: Path, body: str, nodes: str = NODES) -> list[str]:
    show, found = load(tmp_path, body, nodes)
    assert show is None
    return [str(p).split(":", 1)[1] for p in found]


def levels(tmp_path: Path, body: str, nodes: str = NODES) -> list[dict[tuple[str, str], int]]:
    show, found = load(tmp_path, body, nodes)
    assert found == []
    assert show is not None
    return [c.levels for c in show.cues]


@pytest.mark.parametrize(
    ("text", "prefix", "numbers"),
    [
        ("pars[1-3]", "pars", [1, 2, 3]),
        ("pars[2,4,6-8]", "pars", [2, 4, 6, 7, 8]),
        ("lx1_[1-2]", "lx1_", [1, 2]),
        ("d[5]", "d", [5]),
    ],
)
def test_ranges(text: str, prefix: str, numbers: list[int]) -> None:
    assert parse_range(text) == (prefix, numbers)


@pytest.mark.parametrize("text", ["pars[3-1]", "pars[]", "pars[1-x]", "[1-3]", "pars[1-9999]"])
def test_bad_ranges(text: str) -> None:
    with pytest.raises(BadTarget):
        parse_range(text)


def test_group_and_range_set_each_member(tmp_path: Path) -> None:
    body = """\
groups:
  dims: d[1-3]
  colour: [p1, p2]
  all: [dims, colour, m1, d1]
cues:
  - cue: 1
    levels: {dims.dimmer: 50%, colour.red: 255, 'd[2-3].dimmer': 10, all.blue: 7}
"""
    (cue,) = levels(tmp_path, body)
    assert cue == {
        ("d1", "dimmer"): 128,
        ("d2", "dimmer"): 10,
        ("d3", "dimmer"): 10,
        ("p1", "red"): 255,
        ("p2", "red"): 255,
        ("p1", "blue"): 7,
        ("p2", "blue"): 7,
    }


def test_group_key_skips_members_without_the_parameter(tmp_path: Path) -> None:
    body = "groups: {mixed: [d1, p1, m1]}\ncues:\n  - {cue: 1, levels: {mixed.dimmer: 255}}\n"
    (cue,) = levels(tmp_path, body)
    assert cue == {("d1", "dimmer"): 255, ("m1", "dimmer"): 255}


def test_later_key_wins(tmp_path: Path) -> None:
    body = "groups: {dims: 'd[1-3]'}\ncues:\n  - {cue: 1, levels: {d2.dimmer: 1, dims.dimmer: 9}}\n"
    assert levels(tmp_path, body)[0][("d2", "dimmer")] == 9
    body = "groups: {dims: 'd[1-3]'}\ncues:\n  - {cue: 1, levels: {dims.dimmer: 9, d2.dimmer: 1}}\n"
    assert levels(tmp_path, body)[0][("d2", "dimmer")] == 1


def test_group_patches_a_node(tmp_path: Path) -> None:
    body = "groups: {dims: 'd[1-3]', rest: [p1, p2, m1]}\ncues:\n  - {cue: 1}\n"
    show, found = load(tmp_path, body, "nodes:\n  n1: {board: pico, fixtures: [dims, rest]}\n")
    assert found == []
    assert show is not None
    assert show.nodes["n1"].fixtures == ("d1", "d2", "d3", "p1", "p2", "m1")


def test_group_problems(tmp_path: Path) -> None:
    body = """\
groups:
  a: [b]
  b: [a]
  c: d[1-5]
  d1: [d2]
  e: [nothing]
  f: []
  g: {x: 1}
cues:
  - {cue: 1, levels: {c.dimmer: 1, zz.dimmer: 1, p1.dimmer: 2, 'p[1-2].dimmer': 3}}
"""
    assert problems(tmp_path, body) == [
        "15:7: groups.b[0]: groups contain each other: a -> b -> a; "
        "expected groups that do not loop",
        "16:6: groups.c: range 'd[1-5]' names 'd4', which is not a fixture; "
        "expected a range over fixtures that exist",
        "17:3: groups.d1: group 'd1' has the name of a fixture; expected a name no fixture has",
        "18:7: groups.e[0]: unknown fixture or group 'nothing'; expected a fixture or a group: "
        "a, b, c, d1, d2, d3, m1, p1, p2",
        "19:6: groups.f: group 'f' has no fixtures; expected a fixture, a group, a range like "
        "pars[1-12], or a list of them",
        "20:6: groups.g: is a mapping; expected a fixture, a group, a range like pars[1-12], "
        "or a list of them",
        "22:36: cues[0].levels.zz.dimmer: unknown fixture or group 'zz'; expected a fixture or a "
        "group: a, b, c, d1, d2, d3, e, f, g, m1, p1, p2",
        "22:50: cues[0].levels.p1.dimmer: fixture 'p1' (rgb) has no parameter 'dimmer'; "
        "expected a parameter: blue, green, red",
        "22:64: cues[0].levels.'p[1-2].dimmer': no fixture of 'p[1-2]' has a parameter "
        "'dimmer'; expected a parameter: blue, green, red",
    ]


PALETTES = """\
groups:
  pars: p[1-2]
palettes:
  colour:
    warm: {red: 100%, green: 40%, blue: 0, p2.blue: 20}
    cold: {blue: 255}
  position:
    centre: {pan: 50%, tilt: 25%}
  intensity:
    full: {dimmer: 100%}
"""


def test_palettes_resolve_per_fixture(tmp_path: Path) -> None:
    body = (
        PALETTES
        + """\
cues:
  - {cue: 1, levels: {pars: warm, m1: [centre, full]}}
  - {cue: 2, levels: {pars: cold, p1.red: 9}}
"""
    )
    one, two = levels(tmp_path, body)
    assert one == {
        ("p1", "red"): 255,
        ("p1", "green"): 102,
        ("p1", "blue"): 0,
        ("p2", "red"): 255,
        ("p2", "green"): 102,
        ("p2", "blue"): 20,
        ("m1", "pan"): 32768,  # 16-bit: 50% of 65535
        ("m1", "tilt"): 16384,
        ("m1", "dimmer"): 255,
    }
    assert two == {("p1", "blue"): 255, ("p2", "blue"): 255, ("p1", "red"): 9}


def test_editing_a_palette_changes_every_cue_using_it(tmp_path: Path) -> None:
    cues = """\
cues:
  - {cue: 1, levels: {pars: warm}}
  - {cue: 2, levels: {pars: cold}}
  - {cue: 3, levels: {p1: warm}}
"""
    show, _ = load(tmp_path, PALETTES + cues)
    edited = PALETTES.replace("green: 40%", "green: 60%")
    show2, _ = load(tmp_path, edited + cues)
    assert show is not None and show2 is not None
    before = node_shows(show)["n1"]
    after = node_shows(show2)["n1"]
    green = [i for i, (slot, _) in enumerate(before.params) if slot in (11, 14)]
    changed = [[(p, v) for p, v in a.changes if p in green] for a in after.cues]
    # cue 1 sets green on both pars, cue 3 restates p1's (tracked: no change on the node)
    assert changed[0] == [(green[0], 153), (green[1], 153)]
    assert [(p, v) for p, v in before.cues[0].changes if p in green] == [
        (green[0], 102),
        (green[1], 102),
    ]
    assert changed[2] == []


def test_palette_problems(tmp_path: Path) -> None:
    body = """\
groups:
  pars: p[1-2]
palettes:
  color:
    x: {red: 1}
  colour:
    warm: {rde: 1, red: full, nothing.red: 3}
    big: {red: 300}
    pars: {red: 1}
  beam:
    warm: {blue: 1}
    empty: {}
cues:
  - {cue: 1, levels: {pars: cold, d1: full, m1: big, p1: big}}
"""
    assert problems(tmp_path, body) == [
        "16:3: palettes.color: unknown palette family 'color'; did you mean 'colour'?",
        "19:12: palettes.colour.warm.rde: no fixture has a parameter 'rde'; did you mean 'red'?",
        "19:25: palettes.colour.warm.red: the text 'full' is not a level; expected 0 to 65535 "
        'or a percentage like "50%" (16-bit parameter)',
        "19:31: palettes.colour.warm.nothing.red: unknown fixture or group 'nothing'; expected "
        "a fixture or a group: d1, d2, d3, m1, p1, p2, pars",
        "20:16: palettes.colour.big.red: 300 is out of range for p1.red; expected 0 to 255 or a "
        'percentage like "50%"',
        "21:5: palettes.colour.pars: palette 'pars' has the name of a fixture or a group; "
        "expected a name used once",
        "23:5: palettes.beam.warm: palette 'warm' is already defined at line 19; expected a "
        "name used once",
        "24:12: palettes.beam.empty: palette 'empty' sets nothing; expected a mapping of "
        "parameter -> level (or target.parameter -> level)",
        "26:29: cues[0].levels.pars: 'cold' is not a palette; expected a palette: big, empty, warm",
        "26:39: cues[0].levels.d1: 'full' is not a palette; expected a palette: big, empty, warm",
        "26:49: cues[0].levels.m1: palette 'big' sets red; no fixture of 'm1' has any of them; "
        "expected a palette for parameters these fixtures have",
    ]


def test_docs_groups_example_is_valid(tmp_path: Path) -> None:
    doc = (EXAMPLES_DIR.parent / "docs" / "show-format.md").read_text()
    section = doc.split("## Groups, ranges and palettes: a complete example", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "show.yaml"
    path.write_text(example.replace("../examples/fixtures/", f"{EXAMPLES_DIR}/fixtures/"))
    show, found = load_show(path)
    assert [str(p) for p in found] == []
    assert show is not None
    one, two, three = (c.levels for c in show.cues)
    assert one[("pars4", "red")] == 255 and one[("pars2", "dimmer")] == 204
    assert two[("pars3", "blue")] == 255 and ("pars2", "blue") not in two
    assert (
        two[("spot2", "pan")] == 32768
        and two[("spot1", "focus")] == 153
        and two[("spot2", "gobo")] == 10
    )
    assert three[("front1", "dimmer")] == 102 and three[("front2", "dimmer")] == 0
    assert three[("pars2", "dimmer")] == 51 and three[("pars4", "dimmer")] == 0
    assert show.cues[2].up_ms == 90_000
    assert show.nodes["rack"].fixtures[:2] == ("pars1", "pars2")
