"""The HIL suite itself: its checks fail on a faulty node, with the figure in the message, the
JUnit XML and the HTML report; a run's report holds every check with its figure and plots."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.hil import dmxline, wiring
from cuenode.hil.thresholds import DEFAULTS, for_board
from cuenode.paths import REPO_ROOT
from hil_support import junit_properties, run_hil

pytestmark = pytest.mark.timeout(600)


@pytest.mark.parametrize(
    ("fault", "select", "threshold", "figure"),
    [
        ("break_us=60", "dmx", "break_us_min", "60 us"),
        ("frame_stall_us=30000", "frame_rate or go_latency", "frame_rate_hz_min", "18.8"),
        ("late_pins=R2:100000", "pulse", "relay_pulse_error_ms", "ms"),
    ],
)
def test_an_injected_fault_fails_its_check_with_the_figure(
    tmp_path: Path, fault: str, select: str, threshold: str, figure: str
) -> None:
    code, out, report = run_hil(tmp_path, "--inject-fault", fault, "-k", select)
    assert code == 1, out
    line = next(ln for ln in out.splitlines() if f"threshold {threshold}" in ln)
    assert "FAIL" in line and figure in line, line
    props = junit_properties(report)
    assert props[f"{threshold}.verdict"] == "FAIL"
    html = (report / "report.html").read_text()
    row = re.search(rf"<tr class='FAIL'><td>[^<]*</td><td>{threshold}</td>.*?</tr>", html)
    assert row and figure.split()[0] in row.group(0), html[:2000]


def test_a_run_reports_every_check_with_its_figure_and_plots(tmp_path: Path) -> None:
    code, out, report = run_hil(tmp_path)
    html = (report / "report.html").read_text()
    props = junit_properties(report)
    judged = {name for name in props if not name.endswith((".threshold", ".verdict"))}
    expected = set(DEFAULTS) - {"push_speedup_min"}  # judged on a real node's USB only
    assert judged == expected, (expected - judged, out[-3000:])
    for name in judged:
        row = re.search(rf"<td>{name}</td><td>[^<]*</td><td>([-0-9.e]+) ", html)
        assert row, f"{name} missing from the report"
        assert float(row.group(1)) == pytest.approx(float(props[name]), rel=1e-3)
    plots = re.findall(r"<img alt='(plot|timeline) ([^']+)' src='data:image/png;base64,", html)
    names = {n for _, n in plots}
    for needed in ("break_us_min", "mab_us_min", "frame_jitter_p99_us", "go_latency_p99_ms"):
        assert needed in names, names
    assert {"relay R1", "relay R2"} <= names, names
    assert "hil-node" in html and "show_hash" in html  # the node's identity heads the report


def test_the_decoder_reads_what_a_transmitter_draws() -> None:
    class Frame:
        def __init__(self, t_us: int, data: bytes) -> None:
            self.t_us, self.break_us, self.mab_us, self.data = t_us, 100, 12, data

    data = bytes([0, 255, 0x75, 0xFF, 0x00, 0x81] + [7] * 507)
    frames = [Frame(0, data), Frame(30_000, data[::-1])]
    packets = dmxline.decode(dmxline.edges_from_frames(frames), 60_000)
    assert [bytes(p.data) for p in packets] == [data, data[::-1]]
    assert [(p.break_us, p.mab_us) for p in packets] == [(100, 12), (100, 12)]
    assert set(packets[0].slot_times_us()) == {44.0}
    assert packets[0].framing_errors == 0


def test_a_packet_cut_off_by_the_end_of_the_recording_is_left_out() -> None:
    class Frame:
        t_us, break_us, mab_us, data = 0, 176, 12, bytes(513)

    edges = dmxline.edges_from_frames([Frame()])
    assert dmxline.decode(edges, 5_000) == []
    assert len(dmxline.decode(edges, 30_000)) == 1


def test_every_board_has_one_consistent_jig_wiring() -> None:
    for board in ("pico", "emulator", "esp32_devkitc"):
        assert wiring.problems(board) == [], board
        sections = {w.section for w in wiring.wires(board)}
        assert sections == set(wiring.SECTIONS), board


def test_a_board_may_override_a_threshold_but_not_invent_one() -> None:
    assert for_board({"status_rtt_p99_ms": 40})["status_rtt_p99_ms"].limit == 40
    with pytest.raises(KeyError, match="known thresholds"):
        for_board({"status_rtt_p99": 40})


def test_the_wiring_tables_in_docs_hil_match_the_board_data() -> None:
    doc = (REPO_ROOT / "docs" / "hil.md").read_text()
    for board in ("pico", "esp32_devkitc"):
        table = re.search(rf"<!-- table:{board} -->\n(.*?)\n<!-- /table -->", doc, re.S)
        assert table and table.group(1).strip() == wiring.markdown_table(board), board


def test_cuenode_hil_runs_the_suite_and_writes_its_report(tmp_path: Path) -> None:
    cuenode = Path(sys.executable).with_name("cuenode")
    report = tmp_path / "rep"
    args = [str(cuenode), "hil", "--report", str(report), "-k", "node_answers or packet_length"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"report: {report / 'report.html'}" in proc.stdout
    html = (report / "report.html").read_text()
    assert "packet_slots" in html
    assert "PicoRig" in html  # the default target: the emulated Pico (its parts are installed)
    usage = subprocess.run(
        [str(cuenode), "hil", "--jig", "/dev/null"], capture_output=True, text=True
    )
    assert usage.returncode == 2 and "--jig needs --node" in usage.stderr
    both = [str(cuenode), "hil", "--node", "/dev/null", "--target", "pico"]
    usage = subprocess.run(both, capture_output=True, text=True)
    assert usage.returncode == 2 and "--target is for an emulated node" in usage.stderr
