"""Fixture types (inline or from `include:`d library files) and the fixtures of a show."""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from cuenode.paths import EXAMPLES_DIR
from cuenode.show.model import FixtureType, ParamDef
from cuenode.show.schema import (
    Problems,
    check_key_name,
    entries,
    items,
    mapping,
    parse,
    seen_at,
    suggest,
)
from cuenode.show.values import NAME_RE, parse_int, parse_level, parse_text
from cuenode.show.yaml import TooLarge, YNode, describe, excerpt, load_yaml, read_limited

TYPE_KEYS = ("channels", "defaults", "footprint", "label")
FIXTURE_KEYS = ("type", "address", "defaults")
LIBRARY_KEYS = ("fixture_types",)
T = TypeVar("T")
CHANNEL_EXPECTED = "a channel number 1-512, or [coarse, fine] for a 16-bit parameter"


@dataclass
class FixtureDraft:
    """A fixture before it is patched to a node (the node list decides that)."""

    name: str
    type: FixtureType
    address: int
    node: YNode  # the fixture's entry, for problem marks
    address_node: YNode


# --- include -------------------------------------------------------------------------------


MAX_LIBRARY_BYTES = 1_000_000  # a fixture library is a few KB; this is far beyond any
LIBRARY_PATH_ENV = "CUENODE_LIBRARY_PATH"
INCLUDE_EXPECTED = "a fixture library file in the show's folder or on the library path"


def library_path() -> list[Path]:
    """Folders an include may come from besides the show's own folder: those in
    $CUENODE_LIBRARY_PATH (separated by ':'), then the bundled examples/fixtures."""
    folders = [Path(p) for p in os.environ.get(LIBRARY_PATH_ENV, "").split(os.pathsep) if p]
    return [*folders, EXAMPLES_DIR / "fixtures"]


def load_includes(out: Problems, node: YNode, base: Path) -> list[YNode]:
    """The `fixture_types` section of every included library file, in include order.

    `base` is the show's folder. An include names a file relative to it (or an absolute
    path), or a file in a library folder (`library_path()`); the file must be a regular file
    of at most MAX_LIBRARY_BYTES inside the show's folder or a library folder, not the show
    itself, and included once. When one cannot be read, `out.types_incomplete` is set: the
    types it would have defined are then not reported unknown at every fixture."""
    sections = []
    paths = (
        [node]
        if isinstance(node.value, str)
        else items(out, node, "a list of fixture library files, e.g. [fixtures/generic.yaml]")
    )
    seen: dict[Path, YNode] = {}
    for entry in paths:
        if not isinstance(entry.value, str) or not entry.value.strip():
            out.at(entry, f"is {describe(entry.value)}", "a file path relative to this show file")
            out.types_incomplete = True
            continue
        section = _load_library(out, entry, base, seen)
        if section is None:
            out.types_incomplete = True
        else:
            sections.append(section)
    return sections


def _find_library(name: str, base: Path) -> Path:
    """Where an include points: relative to the show's folder if it is there, else in the
    first library folder that has it (else the show's folder, to say it is missing)."""
    here = Path(os.path.normpath(base / name))
    if os.path.isabs(name) or os.path.lexists(here):
        return here
    for folder in library_path():
        there = Path(os.path.normpath(folder / name))
        if os.path.lexists(there):
            return there
    return here


def _library_problem(path: Path, base: Path, show: Path, seen: dict[Path, YNode]) -> str | None:
    """What makes `path` unusable as an include, or None."""
    if not os.path.lexists(path):  # named as the show names it (no machine-specific prefix)
        shown = os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
        return f"no such file: {excerpt(shown, 120)}"
    real = path.resolve()
    if real == show:
        return "includes the show itself (a library holds only fixture_types:)"
    if real in seen:
        return f"{excerpt(str(path), 120)} is already included at line {seen[real].mark.line}"
    roots = [base.resolve(), *(folder.resolve() for folder in library_path())]
    if not any(real.is_relative_to(root) for root in roots):
        return f"{excerpt(str(path), 120)} is outside the show's folder and the library path"
    try:
        info = real.stat()
    except OSError as exc:
        return f"{excerpt(str(path), 120)} cannot be read ({exc.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return f"{excerpt(str(path), 120)} is a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return f"{excerpt(str(path), 120)} is not a regular file"
    return None


def _load_library(out: Problems, entry: YNode, base: Path, seen: dict[Path, YNode]) -> YNode | None:
    path = _find_library(entry.value.strip(), base)
    show = Path(entry.mark.path).resolve()
    wrong = _library_problem(path, base, show, seen)
    if wrong is None:
        seen[path.resolve()] = entry
        try:
            text = read_limited(path, MAX_LIBRARY_BYTES)
        except TooLarge:
            wrong = f"{excerpt(str(path), 120)} is larger than {MAX_LIBRARY_BYTES:,} bytes"
        except UnicodeDecodeError:
            wrong = f"{excerpt(str(path), 120)} is not UTF-8 text"
        except OSError as exc:
            wrong = f"{excerpt(str(path), 120)} cannot be read ({exc.strerror})"
    if wrong is not None:
        out.at(entry, wrong, f"expected {INCLUDE_EXPECTED} ({LIBRARY_PATH_ENV})")
        return None
    out.add_file(str(path))
    root, yaml_problems = load_yaml(text, str(path))
    out.extend(yaml_problems)
    if root is None:
        return None
    known = mapping(out, root, LIBRARY_KEYS, required=LIBRARY_KEYS)
    return known.get("fixture_types") if known else None


# --- fixture types -------------------------------------------------------------------------


def parse_types(out: Problems, sections: list[YNode]) -> dict[str, FixtureType | None]:
    """All fixture types by name (libraries first, then inline); None marks a broken type."""
    defs: dict[str, YNode] = {}
    for section in sections:
        for name, definition in entries(out, section, "a mapping of type name -> type").items():
            if name in defs:
                out.at_entry(
                    definition,
                    f"fixture type {name!r} is already defined at "
                    f"{seen_at(defs[name].where, definition.where)}",
                    "a unique type name",
                )
                continue
            defs[name] = definition
    types = {name: parse_type(out, name, node) for name, node in defs.items()}
    _stand_ins(types)
    return types


def parse_type(out: Problems, name: str, node: YNode) -> FixtureType | None:
    before = len(out)
    check_key_name(out, node, name, "fixture type")
    known = mapping(out, node, TYPE_KEYS, required=("channels",))
    if known is None:
        return None
    parse(out, known.get("label"), parse_text)
    params = _parse_channels(out, known["channels"]) if "channels" in known else []
    used = max((max(p.offset, p.fine_offset or 0) + 1 for p in params), default=0)
    footprint = used
    if "footprint" in known:
        footprint = (
            parse(
                out,
                known["footprint"],
                parse_int,
                max(used, 1),
                512,
                f"a channel count from {max(used, 1)} (the highest channel used) to 512",
            )
            or used
        )
    ftype = FixtureType(name, tuple(params), footprint)
    if "defaults" in known:
        ftype = apply_defaults(out, ftype, known["defaults"])
    return ftype if len(out) == before else None


def _parse_channels(out: Problems, node: YNode) -> list[ParamDef]:
    taken: dict[int, str] = {}
    params = []
    channels = entries(out, node, "a mapping of parameter name -> channel number")
    if node.value is not None and node.is_map and not channels:
        out.at(node, "has no parameters", "at least one parameter, e.g. 'dimmer: 1'")
    for pname, chnode in channels.items():
        if not check_key_name(out, chnode, pname, "parameter"):
            continue
        numbers = _channel_numbers(out, chnode)
        if numbers is None:
            continue
        clash = [f"channel {c} is already used by {taken[c]!r}" for c in numbers if c in taken]
        if clash:
            out.at(chnode, clash[0], "each channel used by one parameter")
            continue
        taken.update({c: pname for c in numbers})
        fine = numbers[1] - 1 if len(numbers) == 2 else None
        params.append(ParamDef(pname, numbers[0] - 1, fine))
    return sorted(params, key=lambda p: p.offset)


def _channel_numbers(out: Problems, node: YNode) -> list[int] | None:
    if node.is_list:
        assert isinstance(node.children, list)
        if len(node.children) != 2:
            out.at(node, f"has {len(node.children)} channels", CHANNEL_EXPECTED)
            return None
        pair = [parse(out, child, parse_int, 1, 512, CHANNEL_EXPECTED) for child in node.children]
        if None in pair:
            return None
        if pair[0] == pair[1]:
            out.at(
                node.children[1],
                "fine channel is the coarse channel",
                "two different channels [coarse, fine]",
            )
            return None
        return [p for p in pair if p is not None]
    number = parse(out, node, parse_int, 1, 512, CHANNEL_EXPECTED)
    return None if number is None else [number]


def apply_defaults(out: Problems, ftype: FixtureType, node: YNode) -> FixtureType:
    """A copy of the type with default levels replaced (type defaults or per-fixture ones)."""
    by_name = {p.name: p for p in ftype.params}
    for pname, vnode in entries(out, node, "a mapping of parameter name -> level").items():
        if pname not in by_name:
            out.at_entry(
                vnode,
                f"type {ftype.name!r} has no parameter {pname!r}",
                suggest(pname, by_name, "a parameter of this type"),
            )
            continue
        level = parse(out, vnode, parse_level, by_name[pname].max_value)
        if level is not None:
            by_name[pname] = replace(by_name[pname], default=level)
    return replace(ftype, params=tuple(by_name[p.name] for p in ftype.params))


# --- fixtures ------------------------------------------------------------------------------


def parse_fixtures(
    out: Problems, node: YNode | None, types: dict[str, FixtureType | None]
) -> dict[str, FixtureDraft | None]:
    """Fixtures by name; None marks a fixture that has problems (so cues do not cascade)."""
    if node is None:
        return {}
    found: dict[str, FixtureDraft | None] = {}
    for name, fnode in entries(out, node, "a mapping of fixture name -> fixture").items():
        found[name] = _parse_fixture(out, name, fnode, types)
    _stand_ins(found)
    return found


def _stand_ins(found: dict[str, T | None]) -> None:
    """A name spoilt by an invisible character ('par\u200b1') is reported where it is
    defined; its uses, written plainly ('par1'), are not reported again as unknown."""
    for name in list(found):
        visible = "".join(c for c in name if c.isprintable() and unicodedata.category(c) != "Cf")
        if visible != name and NAME_RE.match(visible.strip()):
            found.setdefault(visible.strip(), None)


def _parse_fixture(
    out: Problems, name: str, node: YNode, types: dict[str, FixtureType | None]
) -> FixtureDraft | None:
    before = len(out)
    check_key_name(out, node, name, "fixture")
    known = mapping(out, node, FIXTURE_KEYS, required=("type", "address"))
    if known is None:
        return None
    ftype = _fixture_type(out, known.get("type"), types)
    address = parse(
        out, known.get("address"), parse_int, 1, 512, "a DMX start address from 1 to 512"
    )
    if ftype is not None and address is not None:
        last = address + ftype.footprint - 1
        if last > 512:
            out.at(
                known["address"],
                f"fixture spans channels {address}-{last}, past slot 512",
                f"an address from 1 to {513 - ftype.footprint} for this "
                f"{ftype.footprint}-channel {ftype.name}",
            )
    if ftype is not None and "defaults" in known:
        ftype = apply_defaults(out, ftype, known["defaults"])
    if ftype is None or address is None or len(out) != before:
        return None
    return FixtureDraft(name, ftype, address, node, known["address"])


def _fixture_type(
    out: Problems, node: YNode | None, types: dict[str, FixtureType | None]
) -> FixtureType | None:
    if node is None:
        return None
    if not isinstance(node.value, str):
        out.at(node, f"is {describe(node.value)}", "the name of a fixture type")
        return None
    if node.value not in types:
        if out.types_incomplete:  # probably defined in the library that could not be read
            return None
        out.at(
            node,
            f"unknown fixture type {excerpt(node.value)}",
            suggest(node.value, types, "a type from fixture_types or an included library"),
        )
        return None
    return types[node.value]
