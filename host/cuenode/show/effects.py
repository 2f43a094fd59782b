"""The `effects:` section: looping waveforms and step chases, started and stopped by cues.

    effects:
      breathe:                      # a waveform on one parameter of a set of fixtures
        type: sine                  # sine, ramp or square
        target: pars                # a fixture, group or range
        param: dimmer
        rate: 4s                    # one cycle (a time), or "15 bpm"
        size: 40%                   # peak to peak, of the parameter's range
        offset: -20%                # added to the cue value (optional, may be negative)
        spread: 100%                # phase spread across the members (optional, default 0%)
      run:                          # a step chase: one step lit at a time, looping
        type: chase
        steps: [pars[1-2], pars[3-4], pars[5-6]]
        param: dimmer
        step: 250ms                 # time per step
        size: 100%

Every effect is *relative*: each frame its parameters show
`cue value + offset + size x wave`, clamped (docs/show-format.md, "Effects"). A cue starts and
stops effects by name (`effects: {breathe: start, run: stop}`); effects track like levels.
"""

from __future__ import annotations

from typing import Any

from cuenode.show.groups import BadTarget, Targets
from cuenode.show.model import PHASES, Effect
from cuenode.show.model import EffectShape as Shape
from cuenode.show.schema import Problems, check_key_name, entries, items, mapping, parse, suggest
from cuenode.show.types import FixtureDraft
from cuenode.show.values import BadValue, parse_level, parse_percent, parse_time_ms
from cuenode.show.yaml import YNode, describe

SHAPES = ("sine", "ramp", "square", "chase")
KEYS = ("type", "target", "steps", "param", "rate", "step", "size", "offset", "spread", "width")
MIN_CYCLE_MS = 50  # faster than a few DMX frames per cycle shows nothing but noise
MAX_CYCLE_MS = 3_600_000  # one hour a cycle
MAX_STEPS = 64


def parse_effects(out: Problems, node: YNode | None, targets: Targets) -> dict[str, Effect | None]:
    """Effects by name; None marks a broken one (already reported)."""
    found: dict[str, Effect | None] = {}
    if node is None:
        return found
    for name, enode in entries(out, node, "a mapping of effect name -> effect").items():
        if not check_key_name(out, enode, name, "effect"):
            continue
        found[name] = _parse_effect(out, name, enode, targets)
    return found


def _parse_effect(out: Problems, name: str, node: YNode, targets: Targets) -> Effect | None:
    before = len(out)
    known = mapping(out, node, KEYS, required=("type", "param", "size"))
    if known is None:
        return None
    shape = _shape(out, known.get("type"))
    if shape is None:
        return None
    steps = _steps(out, node, known, shape, targets)
    param = known["param"].value if "param" in known else None
    if len(out) != before or not isinstance(param, str):
        return None
    drafts = [d for step in steps for d in step]
    max_value = _param_range(out, known["param"], param, drafts)
    period = _period(out, known, shape, len(steps))
    size = parse(out, known.get("size"), parse_level, max_value or 255)
    offset = parse(out, known.get("offset"), parse_signed_level, max_value or 255) or 0
    spread = parse(out, known.get("spread"), parse_spread) or 0
    width = _width(out, known.get("width"), shape, len(steps))
    if len(out) != before or max_value is None or period is None or size is None:
        return None
    return Effect(name, shape, param, _members(steps, shape, spread), period, size, offset, width)


def _shape(out: Problems, node: YNode | None) -> Shape | None:
    if node is None:
        return None
    if node.value not in SHAPES:
        word = node.value if isinstance(node.value, str) else ""
        out.at(node, f"{describe(node.value)} is not an effect type", suggest(word, SHAPES))
        return None
    return node.value  # type: ignore[no-any-return]


def _steps(
    out: Problems, node: YNode, known: dict[str, YNode], shape: Shape, targets: Targets
) -> list[list[FixtureDraft]]:
    """The fixtures of each step (a chase), or one list of members (a waveform)."""
    if shape == "chase":
        if "target" in known:
            out.at_entry(known["target"], "a chase has steps:, not target:", "steps: [a, b, c]")
        if "steps" not in known:
            out.at_entry(node, "missing key 'steps'", "'steps:' with the targets of each step")
            return []
        step_nodes = items(out, known["steps"], "a list of targets, one per step")
        if not 2 <= len(step_nodes) <= MAX_STEPS and known["steps"].is_list:
            out.at(known["steps"], f"{len(step_nodes)} steps", f"2 to {MAX_STEPS} steps")
        return [_target(out, s, targets) for s in step_nodes]
    if "steps" in known:
        out.at_entry(known["steps"], f"a {shape} effect has target:, not steps:", "target:")
    if "target" not in known:
        out.at_entry(node, "missing key 'target'", "'target:' with a fixture, group or range")
        return []
    return [_target(out, known["target"], targets)]


def _target(out: Problems, node: YNode, targets: Targets) -> list[FixtureDraft]:
    if not isinstance(node.value, str):
        out.at(node, f"is {describe(node.value)}", "a fixture, group or range")
        return []
    try:
        return targets.drafts(targets.resolve(node.value) or ())
    except BadTarget as exc:
        out.at(node, exc.message, exc.expected)
        return []


def _param_range(out: Problems, node: YNode, param: str, drafts: list[FixtureDraft]) -> int | None:
    """The parameter's range (255 or 65535) across the members; one width for all."""
    missing = [d.name for d in drafts if not any(p.name == param for p in d.type.params)]
    if missing:
        out.at(node, f"fixture {missing[0]!r} has no parameter {param!r}", _params_hint(drafts))
        return None
    ranges = {p.max_value for d in drafts for p in d.type.params if p.name == param}
    if len(ranges) > 1:
        out.at(node, f"{param!r} is 8-bit on some members, 16-bit on others", "one width")
        return None
    return ranges.pop() if ranges else None


def _params_hint(drafts: list[FixtureDraft]) -> str:
    common = set.intersection(*({p.name for p in d.type.params} for d in drafts))
    return "expected a parameter every member has: " + (", ".join(sorted(common)) or "none")


def _period(out: Problems, known: dict[str, YNode], shape: Shape, n_steps: int) -> int | None:
    """One cycle in ms: `rate:` (a time or "N bpm"), or for a chase `step:` x steps."""
    if shape == "chase" and "step" in known:
        step = parse(out, known["step"], parse_time_ms)
        return _cycle(out, known["step"], step * n_steps) if step is not None else None
    if "rate" not in known:
        expected = "'step:' (time per step) or 'rate:'" if shape == "chase" else "'rate:'"
        out.at_entry(next(iter(known.values())), "missing the effect's speed", expected)
        return None
    return _cycle(out, known["rate"], parse(out, known["rate"], parse_rate_ms))


def _cycle(out: Problems, node: YNode, ms: int | None) -> int | None:
    if ms is not None and not MIN_CYCLE_MS <= ms <= MAX_CYCLE_MS:
        out.at(node, f"one cycle takes {ms} ms", f"a cycle of {MIN_CYCLE_MS} ms to 1 h")
        return None
    return ms


def parse_rate_ms(value: Any) -> int:
    """'4s', '1:30', 2 (seconds) or '15 bpm' -> ms per cycle."""
    if isinstance(value, str) and value.strip().lower().endswith("bpm"):
        number = value.strip()[:-3].strip()
        try:
            bpm = float(number)
        except ValueError:
            raise BadValue(
                f"{value!r} is not a rate", "a time per cycle or e.g. '15 bpm'"
            ) from None
        if not bpm > 0:
            raise BadValue(f"{value!r} is not a rate", "a rate above 0 bpm")
        return round(60_000 / bpm)
    return parse_time_ms(value)


def parse_spread(value: Any) -> int:
    """0..100 percent of a cycle (0: all members in unison)."""
    if value in (0, "0", "0%"):
        return 0
    return parse_percent(value, "a phase spread of 0% to 100%")


def parse_signed_level(value: Any, max_value: int) -> int:
    """A level that may be negative: -20%, -50, 10%."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -parse_level(value.strip()[1:], max_value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return -parse_level(-value, max_value)
    return parse_level(value, max_value)


def _width(out: Problems, node: YNode | None, shape: Shape, n_steps: int) -> int:
    if shape == "chase":
        if node is not None:
            out.at_entry(node, "a chase's width is one step", "no 'width:' on a chase")
        return max(1, PHASES // max(1, n_steps))
    if node is None:
        return PHASES // 2
    if shape != "square":
        out.at_entry(node, f"width applies to square effects, not {shape}", "no 'width:'")
        return PHASES // 2
    pct = parse(out, node, parse_percent, "a width like 25%")
    return PHASES // 2 if pct is None else PHASES * pct // 100


def _members(
    steps: list[list[FixtureDraft]], shape: Shape, spread: int
) -> tuple[tuple[str, int], ...]:
    """Each member fixture with its phase. A chase: step k is lit from k/steps of the cycle.
    A waveform: member i of n lags by i/n of `spread` percent of a cycle."""
    out: dict[str, int] = {}
    if shape == "chase":
        for k, step in enumerate(steps):
            for d in step:
                out.setdefault(d.name, (-(k * PHASES // len(steps))) % PHASES)
        return tuple(out.items())
    members = list(dict.fromkeys(d.name for d in steps[0])) if steps else []
    for i, name in enumerate(members):
        out[name] = (-(i * PHASES * spread // (100 * len(members)))) % PHASES
    return tuple(out.items())
