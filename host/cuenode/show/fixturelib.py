"""Fixture libraries: import Open Fixture Library JSON and QLC+ `.qxf` definitions into the
show's own library format (`fixture_types:` YAML), and list the types a library or show has.

    types = import_definition(Path("spot.json"), mode="16-bit")   # one ImportedType per mode
    text = library_yaml(types, source="spot.json")                 # a library file's text

Each mode becomes one fixture type: its channels in mode order, a channel and its fine channel
merged into one 16-bit parameter `[coarse, fine]`, unused slots (`null` in OFL) left out of the
parameters but kept in the footprint. Parameter names are the channel names made into
cuenode names (`Color Wheel` -> `color_wheel`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.show.schema import Problems
from cuenode.show.types import load_includes, parse_types
from cuenode.show.yaml import load_yaml, read_text

QXF_NS = "{http://www.qlcplus.org/FixtureDefinition}"
RESOLUTIONS = {"8bit": 0, "16bit": 1, "24bit": 2}  # OFL dmxValueResolution: fine bytes
FINE_WORDS = re.compile(r"[\s_-]*(fine|lsb|16[\s_-]*bit)\s*$", re.I)


@dataclass
class ImportedType:
    name: str
    label: str
    channels: dict[str, tuple[int, ...]]  # parameter -> (channel,) or (coarse, fine), 1-based
    footprint: int
    defaults: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was left out, for the file comment


@dataclass
class Channel:
    """One channel of a mode, as a definition describes it."""

    name: str
    fine_of: str | None = None  # the coarse channel this one refines
    default: int = 0  # raw value at this channel's own resolution (8-bit)
    finer: bool = False  # a third byte or finer: cuenode drives 8 and 16 bit only


@dataclass
class Mode:
    name: str
    short: str
    slots: list[Channel | None]  # None: an unused slot


def slug(text: str) -> str:
    """A cuenode name from free text: 'Color Wheel' -> 'color_wheel' (1-32 characters)."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:32].strip("_")
    return name or "channel"


# --- reading the published formats ----------------------------------------------------------


def import_definition(
    path: Path, mode: str | None = None, name: str | None = None
) -> list[ImportedType]:
    """The fixture types of a definition file (every mode, or just `mode`)."""
    text = _read(path)
    if path.suffix.lower() == ".qxf" or text.lstrip().startswith("<"):
        label, modes = _qxf(path, text)
    else:
        label, modes = _ofl(path, text)
    chosen = _choose_modes(path, modes, mode)
    base = slug(name) if name else slug(label)
    return [
        _to_type(m, base if len(chosen) == 1 else f"{base}_{slug(m.short)}"[:32], label)
        for m in chosen
    ]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CuenodeError(
            f"{path}: cannot read ({exc})", "give an OFL .json or QLC+ .qxf file"
        ) from None


def _choose_modes(path: Path, modes: list[Mode], wanted: str | None) -> list[Mode]:
    if not modes:
        raise CuenodeError(f"{path}: the definition has no modes", "a definition with a mode")
    if wanted is None:
        return modes
    for m in modes:
        if wanted.lower() in (m.name.lower(), m.short.lower()):
            return [m]
    names = ", ".join(repr(m.name) for m in modes)
    raise CuenodeError(f"{path}: no mode {wanted!r}", f"--mode one of: {names}")


def _bad(path: Path, problem: str) -> CuenodeError:
    return CuenodeError(f"{path}: {problem}", "check the file against its format's schema")


def _ofl(path: Path, text: str) -> tuple[str, list[Mode]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"line {exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("availableChannels"), dict):
        raise _bad(path, "not an Open Fixture Library fixture (no availableChannels)")
    known = _ofl_channels(path, data["availableChannels"])
    modes = []
    for m in data.get("modes") or []:
        slots = [_ofl_slot(path, m, entry, known) for entry in m.get("channels", [])]
        modes.append(Mode(str(m.get("name", "")), str(m.get("shortName") or m["name"]), slots))
    return str(data.get("shortName") or data.get("name") or path.stem), modes


def _ofl_channels(path: Path, available: dict[str, Any]) -> dict[str, Channel]:
    """Every channel key and fine alias -> Channel (aliases point at their coarse key)."""
    known: dict[str, Channel] = {}
    for key, spec in available.items():
        spec = spec or {}
        aliases = list(spec.get("fineChannelAliases") or [])
        resolution = RESOLUTIONS.get(str(spec.get("dmxValueResolution")), len(aliases))
        default = _ofl_default(path, key, spec.get("defaultValue", 0), resolution)
        known[key] = Channel(spec.get("name") or key, None, default)
        for level, alias in enumerate(aliases, start=1):
            known[alias] = Channel(alias, key if level == 1 else None, 0, finer=level > 1)
    return known


def _ofl_default(path: Path, key: str, value: Any, fine_levels: int) -> int:
    """OFL gives defaults at the channel's finest resolution or as a percentage; the coarse
    byte is what cuenode keeps (the fine byte of a default starts at 0)."""
    if isinstance(value, str) and value.endswith("%"):
        return round(float(value[:-1]) * 255 / 100)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(255, value >> (8 * fine_levels))
    raise _bad(path, f"channel {key!r}: defaultValue {value!r} is not a DMX value")


def _ofl_slot(path: Path, mode: dict, entry: Any, known: dict[str, Channel]) -> Channel | None:
    if entry is None:
        return None
    if not isinstance(entry, str):
        raise CuenodeError(
            f"{path}: mode {mode.get('name')!r} uses matrix or template channels",
            "import a mode without pixel matrices (cuenode has no matrix support yet)",
        )
    if entry not in known:
        raise _bad(path, f"mode {mode.get('name')!r} uses unknown channel {entry!r}")
    return known[entry]


def _qxf(path: Path, text: str) -> tuple[str, list[Mode]]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise _bad(path, f"line {exc.position[0]}: not XML ({exc})") from None
    if root.tag != f"{QXF_NS}FixtureDefinition":
        raise _bad(path, "not a QLC+ fixture definition (no FixtureDefinition element)")
    maker = (root.findtext(f"{QXF_NS}Manufacturer") or "").strip()
    model = (root.findtext(f"{QXF_NS}Model") or path.stem).strip()
    channels = {ch.get("Name", ""): ch for ch in root.findall(f"{QXF_NS}Channel")}
    modes = []
    for m in root.findall(f"{QXF_NS}Mode"):
        used = [c.text or "" for c in sorted(m.findall(f"{QXF_NS}Channel"), key=_number)]
        slots: list[Channel | None] = [_qxf_channel(path, n, used, channels) for n in used]
        modes.append(Mode(m.get("Name", ""), m.get("Name", ""), slots))
    return f"{maker} {model}".strip(), modes


def _number(element: ET.Element) -> int:
    return int(element.get("Number", "0"))


def _qxf_channel(path: Path, name: str, used: list[str], channels: dict) -> Channel:
    if name not in channels:
        raise _bad(path, f"a mode uses channel {name!r}, which the file does not define")
    element = channels[name]
    default = int(element.get("Default", "0") or 0)
    if not _qxf_is_fine(element):
        return Channel(name, None, default)
    coarse = _qxf_coarse(name, element, used, channels)
    if coarse is None:
        return Channel(name, None, default)  # a fine channel on its own: an 8-bit parameter
    return Channel(name, coarse, 0)


def _qxf_is_fine(element: ET.Element) -> bool:
    group = element.find(f"{QXF_NS}Group")
    preset = element.get("Preset", "")
    return preset.endswith("Fine") or (group is not None and group.get("Byte") == "1")


def _qxf_coarse(name: str, element: ET.Element, used: list[str], channels: dict) -> str | None:
    """The channel a fine channel refines: same name without 'fine', else the one coarse
    channel of the same preset or group in the mode."""
    stem = FINE_WORDS.sub("", name).lower()
    by_name = [n for n in used if n.lower() == stem and n != name]
    if by_name:
        return by_name[0]
    preset = element.get("Preset", "").removesuffix("Fine")
    group = element.find(f"{QXF_NS}Group")
    kind = group.text if group is not None else None
    same = [
        n
        for n in used
        if n != name
        and not _qxf_is_fine(channels[n])
        and (
            (preset and channels[n].get("Preset") == preset)
            or (kind and _group_text(channels[n]) == kind)
        )
    ]
    return same[0] if len(same) == 1 else None


def _group_text(element: ET.Element) -> str | None:
    group = element.find(f"{QXF_NS}Group")
    return group.text if group is not None else None


# --- one mode -> one cuenode fixture type ----------------------------------------------------


def _to_type(mode: Mode, name: str, label: str) -> ImportedType:
    imported = ImportedType(name, f"{label}, {mode.name}"[:120], {}, len(mode.slots))
    params: dict[str, str] = {}  # definition channel name -> parameter name
    for number, channel in enumerate(mode.slots, start=1):
        if channel is None:
            continue
        if channel.finer:
            imported.notes.append(f"channel {number} ({channel.name}): finer than 16-bit, unused")
        elif channel.fine_of is not None and channel.fine_of in params:
            param = params[channel.fine_of]
            imported.channels[param] = (imported.channels[param][0], number)
        else:
            param = _unique(slug(channel.name), imported.channels)
            params[channel.name] = param
            imported.channels[param] = (number,)
            if channel.default:
                imported.defaults[param] = channel.default
    for param, default in list(imported.defaults.items()):
        if len(imported.channels[param]) == 2:
            imported.defaults[param] = default << 8  # coarse byte -> 16-bit value
    return imported


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name[:29]}_{n}"
        n += 1
    return candidate


# --- writing the show's library format -------------------------------------------------------


def types_yaml(types: list[ImportedType], source: str) -> str:
    """The entries to go under `fixture_types:` (indented two spaces)."""
    lines: list[str] = []
    for t in types:
        lines.append(f"  {t.name}:                 # imported from {source}")
        lines.append(f"    label: {json.dumps(t.label)}")
        lines.append("    channels:")
        for param, numbers in t.channels.items():
            shown = str(numbers[0]) if len(numbers) == 1 else f"[{numbers[0]}, {numbers[1]}]"
            lines.append(f"      {param}: {shown}")
        lines.append(f"    footprint: {t.footprint}")
        if t.defaults:
            lines.append("    defaults:")
            lines += [f"      {p}: {v}" for p, v in t.defaults.items()]
        lines += [f"    # {note}" for note in t.notes]
        lines.append("")
    return "\n".join(lines)


def library_yaml(types: list[ImportedType], source: str) -> str:
    header = f"# cuenode fixture library (imported from {source} by `cuenode fixtures import`)\n"
    return header + "fixture_types:\n" + types_yaml(types, source)


def add_to_library(library: Path, types: list[ImportedType], source: str) -> str:
    """The library's new text with `types` added (a new file if it does not exist); checked
    with the show validator before anything is written."""
    if library.exists():
        old = read_text(library)
        existing = list_types(library)
        clash = [t.name for t in types if t.name in existing]
        if clash:
            raise CuenodeError(
                f"{library}: already has a fixture type {clash[0]!r}",
                "choose another name with --name, or remove the old type first",
            )
        text = old.rstrip("\n") + "\n\n" + types_yaml(types, source)
    else:
        text = library_yaml(types, source)
    _check_library_text(library, text)
    return text


def _check_library_text(library: Path, text: str) -> None:
    root, problems = load_yaml(text, str(library))
    out = Problems()
    out.extend(problems)
    if root is not None and root.is_map and isinstance(root.children, dict):
        section = root.children.get("fixture_types")
        if section is not None:
            parse_types(out, [section])
    found = out.sorted()
    if found or root is None or not root.is_map:
        first = str(found[0]) if found else "not a fixture library"
        raise CuenodeError(
            f"{library}: the library would not be valid after the import: {first}",
            "fix the library file (it must be a block-style `fixture_types:` mapping)",
        )


def list_types(path: Path) -> dict[str, tuple[int, int, str]]:
    """type name -> (parameters, footprint, label) of a library file or a show (with its
    includes)."""
    out = Problems()
    root, problems = load_yaml(_read(path), str(path))
    out.extend(problems)
    sections = []
    if root is not None and isinstance(root.children, dict):
        if "include" in root.children:
            sections = load_includes(out, root.children["include"], path.parent)
        if "fixture_types" in root.children:
            sections.append(root.children["fixture_types"])
    types = parse_types(out, sections)
    found = out.sorted()
    if found:
        raise CuenodeError(str(found[0]), "fix the file, then list it again")
    return {
        name: (len(t.params), t.footprint, _label(sections, name))
        for name, t in sorted(types.items())
        if t is not None
    }


def _label(sections: list, name: str) -> str:
    for section in sections:
        entry = section.children.get(name) if isinstance(section.children, dict) else None
        if entry is not None and isinstance(entry.children, dict) and "label" in entry.children:
            return str(entry.children["label"].value)
    return ""
