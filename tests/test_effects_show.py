"""Effects and cue parts from YAML to the node: validation errors, compilation (part runs,
effect table and masks), and the compiled example played by the firmware's engine."""

from __future__ import annotations

import io
from pathlib import Path

from cuefw import showfile as sf
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.universe import Universe
from cuenode.build import compiler
from cuenode.show.load import load_show

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "effects.yaml"


def test_docs_effects_example_is_valid(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "show-format.md").read_text()
    section = doc.split("## Effects and cue parts: a complete example", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "show.yaml"
    path.write_text(example.replace("../examples/fixtures/", f"{ROOT}/examples/fixtures/"))
    show, problems = load_show(path)
    assert [str(p) for p in problems] == []
    assert show is not None and set(show.effects) == {"breathe", "sweep", "run"}
    assert show.cues[1].parts[0].delay_ms == 1000 and show.cues[1].parts[1].down_ms == 500
    assert example.replace("../examples/fixtures/", "fixtures/") == EXAMPLE.read_text()


def test_effects_resolve_members_phases_and_rates() -> None:
    show, problems = load_show(EXAMPLE)
    assert problems == [] and show is not None
    breathe = show.effects["breathe"]
    assert breathe.period_ms == 4000 and breathe.size == 102 and breathe.offset == -102
    assert [f for f, _ in breathe.members] == [f"pars{i}" for i in range(1, 7)]
    assert [ph for _, ph in breathe.members][:3] == [0, 65536 - 65536 // 6, 65536 - 2 * 65536 // 6]
    sweep = show.effects["sweep"]
    assert sweep.period_ms == 6000 and sweep.size == round(0.2 * 65535)
    run = show.effects["run"]
    assert run.period_ms == 750 and run.width == 65536 // 3
    assert dict(run.members) == {
        "pars1": 0, "pars2": 0, "pars3": 65536 - 21845, "pars4": 65536 - 21845,
        "pars5": 65536 - 43690, "pars6": 65536 - 43690,
    }  # fmt: skip


def _node(show):  # type: ignore[no-untyped-def]
    return compiler.node_shows(show)["rack"]


def test_compiled_cues_carry_part_runs_and_effect_masks() -> None:
    show, _ = load_show(EXAMPLE)
    ns = _node(show)
    names = sorted(show.effects)  # the node's table order: breathe, run, sweep
    assert [e.period_ms for e in ns.effects] == [show.effects[n].period_ms for n in names]
    assert [c.effects for c in ns.cues] == [0b001, 0b101, 0b110, 0b000]
    cue2 = ns.cues[1]
    assert len(cue2.parts) == 2
    assert cue2.parts[0].delay_ms == 1000 and cue2.parts[0].up_ms == 6000
    assert len(cue2.parts[0].changes) == 2 * 2  # dimmer, tilt of two spots (pan: default)
    assert cue2.parts[1].down_ms == 500 and len(cue2.parts[1].changes) == 2
    own = {p for p, _ in cue2.changes}
    assert own.isdisjoint(p for part in cue2.parts for p, _ in part.changes)


def test_example_plays_on_the_engine() -> None:
    show, _ = load_show(EXAMPLE)
    blob = compiler.compile_show(show)["rack"]
    log = EventLog(64)
    uni = Universe()
    eng = Engine(uni, RelayGovernor(4, log), log)
    eng.load(sf.ShowReader(io.BytesIO(blob)), 0)
    for t in range(0, 4000, 23):
        if t == 0:
            assert eng.go(0)
        eng.tick(t)
    assert eng.effects.n_on == 1
    assert eng.go(4000)  # cue 2: front out in .5 s (a part), spots after 1 s over 6 s
    eng.tick(4500)
    assert uni.frame[40] == 0 and uni.frame[41] == 0  # front1/front2 dimmers (address 40/41)
    eng.tick(4900)
    assert eng.fading
    eng.stop(5000)
    assert eng.effects.n_on == 0


def _problems(tmp_path: Path, effects: str, cue_extra: str) -> list[str]:
    text = EXAMPLE.read_text().replace(
        "include: [fixtures/", f"include: [{ROOT}/examples/fixtures/"
    )
    text = text.replace(", fixtures/moving", f", {ROOT}/examples/fixtures/moving")
    text = text.replace("effects:\n  breathe:", effects + "\n  breathe:", 1)
    text = text.replace("    effects: {breathe: start}\n", cue_extra, 1)
    path = tmp_path / "show.yaml"
    path.write_text(text)
    return [str(p).removeprefix(f"{path}:") for p in load_show(path)[1]]


def test_bad_effects_and_parts_are_reported_with_place_and_remedy(tmp_path: Path) -> None:
    bad_effect = (
        "effects:\n  wobble: {type: sin, target: pars, param: dimmer, rate: 1s, size: 10}\n"
        "  slow: {type: ramp, target: front, param: pan, rate: 2s, size: 10}\n"
        "  quick: {type: square, target: pars, param: dimmer, rate: 10ms, size: 10}"
    )
    cue_extra = (
        "    effects: {breathe: go, nope: start}\n"
        "    parts:\n      - {time: 1s}\n      - {levels: {pars.dimmer: 1}, curve: fast}\n"
    )
    problems = _problems(tmp_path, bad_effect, cue_extra)
    messages = [p.split(": ", 2)[1:] for p in problems]
    assert [
        "effects.wobble.type",
        "the text 'sin' is not an effect type; did you mean 'sine'?",
    ] in messages
    assert any(m[0] == "effects.slow.param" and "no parameter 'pan'" in m[1] for m in messages)
    assert any(
        m[0] == "effects.quick.rate" and m[1].startswith("one cycle takes 10 ms") for m in messages
    )
    assert any(
        m[0] == "cues[0].effects.breathe"
        and m[1].endswith("is not an effect action; expected start or stop")
        for m in messages
    )
    assert any(m[0] == "cues[0].effects.nope" and "unknown effect 'nope'" in m[1] for m in messages)
    assert any(m[0] == "cues[0].parts[0]" and "missing key 'levels'" in m[1] for m in messages)
    assert any(m[0] == "cues[0].parts[1].curve" for m in messages)
    assert all(p.split(":")[0].isdigit() and p.split(":")[1].isdigit() for p in problems)
