"""Load a YAML show file into the validated `cuenode.show.model.Show`, or report every problem.

    show, problems = load_show("show.yaml")

`show` is None whenever `problems` is not empty. Problems come sorted by file (the show first,
then included libraries) and position; `str(problem)` is the one-line form users see:
`show.yaml:LINE:COL: <key path>: <what is wrong>; <what is expected>`. The format itself is
documented in docs/show-format.md. A file that cannot be read at all raises `CuenodeError`.
"""

from __future__ import annotations

import dataclasses
import gc
import stat
from pathlib import Path

from cuenode.errors import CuenodeError
from cuenode.show.checks import (
    NodePatch,
    check_chain,
    check_fire_buttons,
    check_patch,
    check_relays,
)
from cuenode.show.cues import CueDraft, parse_cues
from cuenode.show.effects import parse_effects
from cuenode.show.groups import parse_groups
from cuenode.show.levels import LevelContext
from cuenode.show.model import Fixture, Mark, Problem, Show
from cuenode.show.nodes import NodeDrafts, parse_nodes
from cuenode.show.palettes import parse_palettes
from cuenode.show.schema import Problems, mapping, parse
from cuenode.show.types import FixtureDraft, load_includes, parse_fixtures, parse_types
from cuenode.show.values import parse_int, parse_text
from cuenode.show.yaml import TooLarge, YNode, describe, load_yaml, read_limited

FORMAT_VERSION = 1
MAX_SHOW_BYTES = 32_000_000  # a 65,534-cue show (the compiled format's limit) is ~10-20 MB
TOP_KEYS = (
    "show",
    "include",
    "fixture_types",
    "fixtures",
    "groups",
    "palettes",
    "effects",
    "nodes",
    "cues",
)
SHOW_KEYS = ("name", "version")


def load_show(path: str | Path) -> tuple[Show | None, list[Problem]]:
    # A big show makes a million small objects that all live until the end: the cyclic
    # garbage collector would walk them again and again (a third of the time of a 10 MB
    # show) to find nothing. It runs as usual again afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_show(Path(path))
    finally:
        if was_enabled:
            gc.enable()


def _load_show(path: Path) -> tuple[Show | None, list[Problem]]:
    text_or_problem = _read(path)
    if isinstance(text_or_problem, Problem):
        return None, [text_or_problem]
    root, yaml_problems = load_yaml(text_or_problem, str(path))
    if root is None:
        return None, yaml_problems
    out = Problems()
    out.add_file(str(path))
    out.extend(yaml_problems)
    show = _build(out, root, path)
    problems = out.sorted()
    return (None if problems else show), problems


def _read(path: Path) -> str | Problem:
    try:
        _check_regular(path)
        return read_limited(path, MAX_SHOW_BYTES)
    except FileNotFoundError:
        raise CuenodeError(f"{path}: no such file", "check the path to the show file") from None
    except IsADirectoryError:
        raise CuenodeError(
            f"{path}: is a directory", "give the path of a .yaml show file"
        ) from None
    except TooLarge:
        raise CuenodeError(
            f"{path}: larger than {MAX_SHOW_BYTES // 1_000_000} MB, far beyond any show",
            "check that this is the show file",
        ) from None
    except OSError as exc:
        raise CuenodeError(
            f"{path}: cannot read ({exc.strerror})", "check its permissions"
        ) from None
    except UnicodeDecodeError as exc:
        raw = path.read_bytes()[: exc.start]
        line = raw.count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n") + 1) + 1
        return Problem(
            Mark(str(path), line, col),
            "(file)",
            f"byte 0x{exc.object[exc.start]:02x} is not UTF-8 text",
            "expected a UTF-8 text file",
        )


def _check_regular(path: Path) -> None:
    """A device, pipe or socket is not a show (reading /dev/zero would never end)."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(mode):
        raise CuenodeError(
            f"{path}: not a regular file (a device, pipe or socket)",
            "give the path of a .yaml show file",
        )


def _top_level(out: Problems, root: YNode) -> dict[str, YNode] | None:
    if root.value is None:
        out.at(root, "the file is empty", "a show with show:, fixtures:, nodes: and cues:")
        return None
    if not root.is_map:
        out.at(
            root,
            f"the file holds {describe(root.value)}, not a show",
            "a mapping with show:, fixtures:, nodes: and cues:",
        )
        return None
    return mapping(out, root, TOP_KEYS, required=("show", "nodes", "cues"))


def _build(out: Problems, root: YNode, path: Path) -> Show | None:
    """Every section in turn, then the checks across sections; a Show only if all is well."""
    known = _top_level(out, root)
    if known is None:
        return None
    name, version = _show_header(out, known.get("show"))
    sections = load_includes(out, known["include"], path.parent) if "include" in known else []
    if "fixture_types" in known:
        sections.append(known["fixture_types"])
    types = parse_types(out, sections)
    fixtures = parse_fixtures(out, known.get("fixtures"), types)
    targets = parse_groups(out, known.get("groups"), fixtures)
    palettes = parse_palettes(out, known.get("palettes"), targets)
    effects = parse_effects(out, known.get("effects"), targets)
    nodes = parse_nodes(out, known.get("nodes"), set(fixtures), targets)
    context = LevelContext(targets, palettes)
    cues, cues_complete = parse_cues(out, known.get("cues"), context, nodes.relays, effects)
    check_patch(out, fixtures, nodes)
    check_fire_buttons(out, nodes, cues)
    check_chain(out, cues, _last_item(known.get("cues")))
    check_relays(out, nodes.relays, cues, _node_patch(fixtures, nodes), cues_complete)
    if len(out):
        return None
    show = _assemble(name or "", version or FORMAT_VERSION, fixtures, nodes, cues, path)
    return dataclasses.replace(show, effects={k: e for k, e in effects.items() if e})


def _last_item(node: YNode | None) -> YNode | None:
    children = node.children if node is not None else None
    return children[-1] if isinstance(children, list) and children else None


def _node_patch(fixtures: dict[str, FixtureDraft | None], nodes: NodeDrafts) -> NodePatch:
    defaults = {
        (name, param.name): param.default
        for name, draft in fixtures.items()
        if draft is not None
        for param in draft.type.params
    }
    return NodePatch({f: node for f, (node, _) in nodes.patch.items()}, defaults)


def _assemble(
    name: str,
    version: int,
    fixtures: dict[str, FixtureDraft | None],
    nodes: NodeDrafts,
    cues: list[CueDraft],
    path: Path,
) -> Show:
    patched = {
        f: Fixture(f, d.type, d.address, nodes.patch[f][0])
        for f, d in fixtures.items()
        if d is not None  # always so here: a broken fixture is a problem
    }
    return Show(
        name,
        version,
        patched,
        {k: n for k, n in nodes.nodes.items() if n is not None},
        {k: r for k, r in nodes.relays.items() if r is not None},
        tuple(button for button, _ in nodes.buttons),
        tuple(d.cue for d in cues),
        str(path),
    )


def _show_header(out: Problems, node: YNode | None) -> tuple[str | None, int | None]:
    if node is None:
        return None, None
    known = mapping(out, node, SHOW_KEYS, required=SHOW_KEYS)
    if known is None:
        return None, None
    name = parse(out, known.get("name"), parse_text)
    version = parse(
        out,
        known.get("version"),
        parse_int,
        FORMAT_VERSION,
        FORMAT_VERSION,
        f"format version {FORMAT_VERSION} (the only one this cuenode reads)",
    )
    return name, version
