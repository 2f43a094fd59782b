"""Show file validation: the bad-input corpus, the example shows, value parsing, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from cuenode.cli import cli
from cuenode.errors import CuenodeError
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show
from cuenode.show.model import Problem
from cuenode.show.values import (
    BadValue,
    format_cue,
    format_ms,
    parse_cue_number,
    parse_level,
    parse_time_ms,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"
BAD = sorted((CORPUS / "bad").glob("*.yaml"))
# path:LINE:COL: key path (odd keys quoted, so any ':' in it is inside quotes): message
LINE_RE = re.compile(r"""^.+:\d+:\d+: (?:[^:'"]|'[^']*'|"[^"]*")+: .+$""")


@pytest.fixture(autouse=True)
def corpus_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus shows (in bad/) include libraries from ../lib: a library folder."""
    monkeypatch.setenv("CUENODE_LIBRARY_PATH", str(CORPUS / "lib"))


def expected_problems(path: Path) -> list[str]:
    """The `# expect: LINE:COL: key.path: message; expected` lines at the top of a file."""
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def shown(problem: Problem, path: Path) -> str:
    """A problem as the corpus writes it: the show's own path left off, others corpus-relative."""
    text = str(problem).removeprefix(f"{path}:")
    return text.replace(f"{CORPUS}/", "")


def test_corpus_is_big_enough() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_show_reports_exact_problems(path: Path) -> None:
    expected = expected_problems(path)
    assert expected, f"{path.name} has no '# expect:' line"
    show, problems = load_show(path)
    assert show is None
    assert [shown(p, path) for p in problems] == expected


def test_problems_sorted_by_position() -> None:
    _, problems = load_show(CORPUS / "bad" / "many_problems.yaml")
    positions = [(p.mark.line, p.mark.col) for p in problems]
    assert len(positions) == 4
    assert positions == sorted(positions)


# --- example shows -------------------------------------------------------------------------


def test_demo_show_is_clean_and_read_exactly() -> None:
    show, problems = load_show(EXAMPLES_DIR / "demo.yaml")
    assert problems == []
    assert show is not None
    assert set(show.nodes) == {"stage"} and show.nodes["stage"].board == "emulator"
    assert len(show.cues) == 8
    assert [c.number for c in show.cues][:5] == [1000, 2000, 3000, 3500, 4000]
    fog_cue = show.cues[3]
    assert fog_cue.follow_ms == 6000
    assert [(a.relay, a.kind, a.duration_ms) for a in fog_cue.relays] == [("fog", "pulse", 4000)]
    assert show.cues[0].levels[("front_l", "dimmer")] == 102  # 40% of 255, rounded half up
    assert show.cues[2].levels[("spot", "pan")] == 30000
    assert (show.cues[2].up_ms, show.cues[2].down_ms) == (2000, 4000)
    spot = show.fixtures["spot"]
    pan = next(p for p in spot.type.params if p.name == "pan")
    assert (pan.offset, pan.fine_offset, pan.default) == (0, 1, 32768)
    assert spot.type.footprint == 12 and spot.address == 41 and spot.node == "stage"
    relay = show.relays["fog"]
    assert (relay.pin, relay.max_on_ms, relay.min_off_ms, relay.requires_arm, relay.hazard) == (
        "R1",
        10_000,
        20_000,
        True,
        True,
    )
    actions = sorted((b.pin, b.action, b.cue) for b in show.buttons)
    assert actions == [
        ("B1", "go", None),
        ("B2", "back", None),
        ("B3", "stop", None),
        ("B4", "fire", 1000),
    ]


def test_theatre_show_is_clean_and_big_enough() -> None:
    show, problems = load_show(EXAMPLES_DIR / "theatre.yaml")
    assert [str(p) for p in problems] == []
    assert show is not None
    assert len(show.fixtures) >= 40
    assert len(show.nodes) >= 2
    assert {n.board for n in show.nodes.values()} >= {"pico", "esp32_devkitc"}
    assert len(show.cues) >= 150
    assert any(c.follow_ms is not None for c in show.cues)
    assert any(c.hang_ms is not None for c in show.cues)
    assert {"fog", "haze", "strobe"} <= set(show.relays)
    assert all(r.max_on_ms for r in show.relays.values() if r.hazard)
    assert len(show.buttons) >= 6
    assert {b.action for b in show.buttons} == {"go", "back", "stop", "fire"}


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        (0, 0),
        (2.5, 2500),
        ("2.5", 2500),
        ("2.5s", 2500),
        ("500ms", 500),
        ("1m30s", 90_000),
        ("1m", 60_000),
        ("1h", 3_600_000),
        ("1s 250ms", 1250),
        (3, 3000),
        ("0.001s", 1),
        (".5s", 500),
        (".5", 500),
        (".25", 250),
        ("1:30", 90_000),
        ("0:05", 5000),
        ("0:02.5", 2500),
        ("10:00", 600_000),
        ("1:00:00", 3_600_000),
        ("0:01:30", 90_000),
        ("1m .5s", 60_500),
    ],
)
def test_times(text: object, ms: int) -> None:
    assert parse_time_ms(text) == ms


@pytest.mark.parametrize(
    "text",
    [
        "2x",
        "s",
        "",
        "1.5.2s",
        "-1s",
        "30s1m",
        "1s1s",
        True,
        None,
        [1],
        "1h1ms1s",
        3601,
        "0.0001",
        "1:60",
        "1:5",
        ":30",
        "1:30s",
        "1:00:00:00",
        "1:70:00",
        "2:00:00",
        "5.",
        "1:30.0001",
    ],
)
def test_bad_times(text: object) -> None:
    with pytest.raises(BadValue):
        parse_time_ms(text)


@pytest.mark.parametrize(
    ("text", "thousandths"),
    [
        (1, 1000),
        (1.5, 1500),
        (12.25, 12250),
        ("12.250", 12250),
        (0.001, 1),
        (99999.999, 99_999_999),
    ],
)
def test_cue_numbers(text: object, thousandths: int) -> None:
    assert parse_cue_number(text) == thousandths
    assert parse_cue_number(format_cue(thousandths)) == thousandths


@pytest.mark.parametrize("text", [0, -1, 1.0001, "one", True, 100000, None])
def test_bad_cue_numbers(text: object) -> None:
    with pytest.raises(BadValue):
        parse_cue_number(text)


@pytest.mark.parametrize(
    ("text", "max_value", "raw"),
    [
        (0, 255, 0),
        (255, 255, 255),
        ("50%", 255, 128),
        ("100%", 255, 255),
        ("0%", 255, 0),
        ("40%", 255, 102),
        ("12.5%", 255, 32),
        ("50%", 65535, 32768),
        (65535, 65535, 65535),
        (" 25 % ".replace(" ", ""), 255, 64),
    ],
)
def test_levels(text: object, max_value: int, raw: int) -> None:
    assert parse_level(text, max_value) == raw


@pytest.mark.parametrize("text", [256, -1, "101%", "%", 1.5, True, "full", None, 65536])
def test_bad_levels(text: object) -> None:
    with pytest.raises(BadValue):
        parse_level(text, 255 if text != 65536 else 65535)


@given(st.integers(0, 3_600_000))
def test_format_ms_round_trips(ms: int) -> None:
    assert parse_time_ms(format_ms(ms)) == ms


# --- rules that must not over-report -------------------------------------------------------

SHOW = """\
show: {{name: T, version: 1}}
fixture_types:
  dim: {{channels: {{dimmer: 1}}}}
fixtures:
  d1: {{type: dim, address: 1}}
nodes:
  n1:
    board: pico
    fixtures: [d1]
    relays:
      fog: {{pin: R1, max_on: 10s, min_off: 30s, duty: 50%, duty_window: 40s}}
      lamp: {{pin: R2}}
cues:
{cues}
"""


def check(tmp_path: Path, cues: str) -> list[str]:
    path = tmp_path / "show.yaml"
    path.write_text(SHOW.format(cues=cues))
    return [str(p).removeprefix(f"{path}:") for p in load_show(path)[1]]


def test_relay_on_then_off_after_manual_go_is_allowed(tmp_path: Path) -> None:
    # The time between two GOs is the operator's: the node's governor enforces max_on there.
    assert (
        check(tmp_path, "  - {cue: 1, relays: {fog: on}}\n  - {cue: 2, relays: {fog: off}}") == []
    )


def test_relay_on_without_limit_may_stay_on(tmp_path: Path) -> None:
    assert check(tmp_path, "  - {cue: 1, relays: {lamp: on}}") == []


def test_limits_met_exactly_are_allowed(tmp_path: Path) -> None:
    cues = (
        "  - {cue: 1, follow: 10s, relays: {fog: on}}\n"
        "  - {cue: 2, follow: 30s, relays: {fog: off}}\n"
        "  - {cue: 3, relays: {fog: pulse 10s}}"
    )
    assert check(tmp_path, cues) == []


def test_hang_waits_for_delay_and_the_fade_that_moves(tmp_path: Path) -> None:
    # As the node's engine times it: delay + the up time if a level on the relay's node
    # rises, the down time if one falls (the longer if both), then the hang.
    cues = (
        "  - {cue: 0.5, levels: {d1.dimmer: 255}}\n"
        "  - {cue: 1, up: 3s, down: 5s, delay: 1s, hang: 4s, levels: {d1.dimmer: 0},\n"
        "     relays: {fog: on}}\n"
        "  - {cue: 2, relays: {fog: off}}"
    )
    # falling: on for 1 + 5 + 4 = 10 s, exactly max_on
    assert check(tmp_path, cues) == []
    assert check(tmp_path, cues.replace("hang: 4s", "hang: 4001ms")) == [
        "16:20: cues[1].relays.fog: relay 'fog' stays on for 10.001s (cue 1 to cue 2, which "
        "follows automatically), but its max_on is 10s; expected off within 10s, or a "
        "shorter follow/hang"
    ]
    # rising only (0 -> 128): 1 + 3 + 6 = 10 s is fine, the 5 s down time does not count
    rising = cues.replace("dimmer: 255", "dimmer: 0").replace("dimmer: 0},", "dimmer: 128},")
    assert "{d1.dimmer: 0}}" in rising and "{d1.dimmer: 128}," in rising
    assert check(tmp_path, rising.replace("hang: 4s", "hang: 6s")) == []
    assert len(check(tmp_path, rising.replace("hang: 4s", "hang: 6001ms"))) == 1
    # no level moves (a relay-only cue): 1 + 0 + 9 = 10 s
    still = cues.replace(", levels: {d1.dimmer: 0}", "").replace("hang: 4s", "hang: 9s")
    assert "levels" not in still.split("cue: 1,")[1].split("cue: 2")[0]
    assert check(tmp_path, still) == []
    assert len(check(tmp_path, still.replace("hang: 9s", "hang: 9001ms"))) == 1


def test_hang_timing_counts_only_the_relay_nodes_fixtures(tmp_path: Path) -> None:
    # d2 is on another node: its 30 s fade does not delay this node's hang
    text = SHOW.format(
        cues="  - {cue: 1, time: 30s, hang: 5s, levels: {d2.dimmer: 255},\n"
        "     relays: {fog: on}}\n  - {cue: 2, relays: {fog: off}}"
    )
    text = text.replace(
        "  d1: {type: dim, address: 1}\n",
        "  d1: {type: dim, address: 1}\n  d2: {type: dim, address: 1}\n",
    )
    text = text.replace("cues:\n", "  n2: {board: esp32_devkitc, fixtures: [d2]}\ncues:\n")
    path = tmp_path / "show.yaml"
    path.write_text(text)
    assert [str(p) for p in load_show(path)[1]] == []


def test_duty_budget_is_a_limit_too(tmp_path: Path) -> None:
    # duty 50% of 40 s = 20 s budget, but max_on (10 s) is the tighter limit here
    errors = check(tmp_path, "  - {cue: 1, relays: {fog: pulse 11s}}")
    assert len(errors) == 1 and "max_on of 10s" in errors[0]


def test_no_relay_timeline_reports_when_a_cue_is_broken(tmp_path: Path) -> None:
    # cue 2 (which switches the fog off) has a typo: do not claim the fog is never switched off
    cues = "  - {cue: 1, relays: {fog: on}}\n  - {cue: 2, tme: 1, relays: {fog: off}}"
    assert check(tmp_path, cues) == ["15:14: cues[1].tme: unknown key 'tme'; did you mean 'time'?"]


def test_follow_inside_the_list_is_fine(tmp_path: Path) -> None:
    assert check(tmp_path, "  - {cue: 1, follow: 0}\n  - {cue: 1.5, hang: 2s}\n  - {cue: 2}") == []


# --- robustness: any text gives problems or a show, never an exception ---------------------

DEMO_TEXT = (EXAMPLES_DIR / "demo.yaml").read_text()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(DEMO_TEXT)),
            st.integers(0, 8),
            st.text(alphabet=" :-[]{}#'\"%.,\n\tabc019\x00\x07&*!<", max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_demo_never_crashes(tmp_path: Path, edits: list[tuple[int, int, str]]) -> None:
    text = DEMO_TEXT
    for pos, cut, insert in edits:
        text = text[:pos] + insert + text[pos + cut :]
    path = tmp_path / "fixtures_demo.yaml"
    if not (tmp_path / "fixtures").exists():  # tmp_path is shared by all examples
        (tmp_path / "fixtures").mkdir()
        for lib in (EXAMPLES_DIR / "fixtures").glob("*.yaml"):
            (tmp_path / "fixtures" / lib.name).write_text(lib.read_text())
    path.write_text(text)
    show, problems = load_show(path)
    assert (show is None) == bool(problems)
    for problem in problems:
        assert LINE_RE.match(str(problem)) and "\n" not in str(problem), str(problem)
        assert problem.mark.line >= 1 and problem.mark.col >= 1


# --- CLI -----------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_clean_show_prints_one_ok_line() -> None:
    code, out, _ = run(str(EXAMPLES_DIR / "demo.yaml"))
    assert code == 0
    assert out.splitlines() == [
        f"{EXAMPLES_DIR / 'demo.yaml'}: OK: 'Demo': 6 fixtures on 1 "
        "node, 8 cues, 1 relay, 4 buttons"
    ]


def test_cli_bad_show_one_line_per_problem() -> None:
    path = CORPUS / "bad" / "many_problems.yaml"
    code, out, err = run(str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines == [f"{path}:{line}" for line in expected_problems(path)]
    assert all(LINE_RE.match(line) for line in lines)
    assert "Traceback" not in out + err
    assert err.strip() == f"{path}: 4 problems"


def test_cli_syntax_error_is_one_line() -> None:
    path = CORPUS / "bad" / "syntax_tab.yaml"
    code, out, err = run(str(path))
    assert code == 1 and len(out.splitlines()) == 1 and "Traceback" not in out + err


def test_cli_json() -> None:
    code, out, _ = run(str(CORPUS / "bad" / "many_problems.yaml"), "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert [(p["line"], p["col"], p["key_path"]) for p in data["problems"]] == [
        (8, 12, "show.version"),
        (16, 28, "fixtures.d1.address"),
        (20, 12, "nodes.n1.board"),
        (33, 22, "cues[1].levels.p1.red"),
    ]
    code, out, _ = run(str(EXAMPLES_DIR / "demo.yaml"), "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["problems"] == []
    assert data["summary"] == {"fixtures": 6, "nodes": 1, "cues": 8, "relays": 1, "buttons": 4}


def test_cli_missing_file_is_one_line(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path / "nope.yaml"))
    assert code == 1
    assert (out + err).strip().splitlines() == [
        f"Error: {tmp_path / 'nope.yaml'}: no such file — check the path to the show file"
    ]


def test_cli_directory_is_one_line(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path))
    assert code == 1 and len((out + err).strip().splitlines()) == 1


def test_cli_usage_error_exits_2() -> None:
    code, _, _ = run()
    assert code == 2


def test_load_show_raises_cuenode_error_for_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CuenodeError):
        load_show(tmp_path / "missing.yaml")


def test_pulse_during_pulse_extends_the_on_time(tmp_path: Path) -> None:
    # 6 s pulse, then 3 s later another 6 s pulse: on for 9 s in all (fine); 5 s later: 11 s
    ok = "  - {cue: 1, follow: 3s, relays: {fog: pulse 6s}}\n  - {cue: 2, relays: {fog: pulse 6s}}"
    assert check(tmp_path, ok) == []
    errors = check(tmp_path, ok.replace("follow: 3s", "follow: 5s"))
    assert [e.split(";")[0] for e in errors] == [
        "14:40: cues[0].relays.fog: relay 'fog' stays on for 11s (cue 1 to cue 2, which "
        "follows automatically), but its max_on is 10s"
    ]


def test_on_during_a_pulse_latches_and_is_reported_there(tmp_path: Path) -> None:
    cues = "  - {cue: 1, follow: 1s, relays: {fog: pulse 5s}}\n  - {cue: 2, relays: {fog: on}}"
    assert [e.split(";")[0] for e in check(tmp_path, cues)] == [
        "15:28: cues[1].relays.fog: relay 'fog' is switched on in cue 2 and never off, but its "
        "max_on is 10s"
    ]


def test_min_off_counts_from_the_end_of_a_pulse(tmp_path: Path) -> None:
    # pulse 5 s at 0, next use at 35 s: 30 s off exactly (min_off 30 s) is fine; 34.999 s is not
    cues = (
        "  - {cue: 1, follow: 35s, relays: {fog: pulse 5s}}\n  - {cue: 2, relays: {fog: pulse 1s}}"
    )
    assert check(tmp_path, cues) == []
    errors = check(tmp_path, cues.replace("35s", "34999ms"))
    assert [e.split(";")[0] for e in errors] == [
        "15:28: cues[1].relays.fog: relay 'fog' would switch on 29.999s after it went off "
        "(cue 2 follows automatically), but its min_off is 30s"
    ]


def test_docs_example_is_valid(tmp_path: Path) -> None:
    doc = (EXAMPLES_DIR.parent / "docs" / "show-format.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "show.yaml"
    path.write_text(example.replace("../examples/fixtures/", f"{EXAMPLES_DIR}/fixtures/"))
    show, problems = load_show(path)
    assert [str(p) for p in problems] == []
    assert show is not None
    assert (len(show.fixtures), len(show.nodes), len(show.cues), len(show.buttons)) == (5, 2, 5, 6)
    assert show.fixtures["scan1"].type.footprint == 8
    assert show.cues[3].up_ms == 90_000 and show.cues[1].levels[("scan1", "tilt")] == 16384
    assert show.relays["fog"].duty_pct == 25 and show.relays["fog"].duty_window_ms == 120_000


def test_yaml_is_parsed_by_the_c_parser() -> None:
    # A declared dependency (ruamel.yaml.clib): without it a 1,000-cue show takes seconds.
    from cuenode.show.yaml import _yaml
    from ruamel.yaml.cyaml import CParser

    assert _yaml().Parser is CParser


def test_duplicate_keys_are_all_reported_and_checking_goes_on(tmp_path: Path) -> None:
    text = SHOW.format(cues="  - {cue: 1, label: a, label: b}\n  - {cue: 2, time: 1s, time: 2s}")
    path = tmp_path / "show.yaml"
    path.write_text(text.replace("board: pico", "board: pico\n    board: esp32"))
    problems = [str(p).removeprefix(f"{path}:") for p in load_show(path)[1]]
    assert problems == [
        "9:5: nodes.n1.board: duplicate key 'board' (first at line 8); expected each key once "
        "in a mapping",
        "15:24: cues[0].label: duplicate key 'label' (first at line 15); expected each key once "
        "in a mapping",
        "16:24: cues[1].time: duplicate key 'time' (first at line 16); expected each key once "
        "in a mapping",
    ]


ANY_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(),
    st.text(max_size=12),
    st.from_regex(r"-?\d{1,6}(\.\d{1,5})?(ms|s|m|h|%)?", fullmatch=True),
)


@given(ANY_SCALAR)
def test_value_parsers_return_ints_or_raise_bad_value(value: object) -> None:
    for parser, args in (
        (parse_time_ms, ()),
        (parse_cue_number, ()),
        (parse_level, (255,)),
        (parse_level, (65535,)),
    ):
        try:
            result = parser(value, *args)
        except BadValue as exc:
            assert exc.message and exc.expected.startswith(("expected", "a ", "0 to"))
            continue
        assert isinstance(result, int) and not isinstance(result, bool) and result >= 0


def test_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    path = tmp_path / "show.yaml"
    path.write_text(
        SHOW.format(
            cues="  - &base {cue: 1, time: 2s, curve: s-curve}\n  - {<<: *base, cue: 2}"
        ).replace(
            "  dim: {channels: {dimmer: 1}}",
            "  dim: &dim {channels: {dimmer: 1}}\n  dim2: {<<: *dim}",
        )
    )
    show, problems = load_show(path)
    assert problems == [] and show is not None
    assert [(c.number, c.up_ms, c.curve) for c in show.cues] == [
        (1000, 2000, "s-curve"),
        (2000, 2000, "s-curve"),
    ]
