"""The human form of `cuenode status`: what a crew member reads at a glance."""

from cuenode.node.statusview import relay_text, status_lines

STATUS = {
    "node": "stage-left",
    "port": "/dev/ttyACM0",
    "mode": "running",
    "cue": "12.5",
    "next": "13",
    "progress_pct": 40,
    "fading": True,
    "armed": True,
    "relays": [["fog", True, 7500], ["haze", False, 0], ["house", True, -1]],
    "dmx_fps": 44,
    "uptime_s": 3600,
    "show": "Tempest",
    "show_hash": "76441214d4b5f69c87c1",
    "pending_show": True,
    "fw_version": "0.1.0",
    "board": "pico",
    "load_error": "",
    "link": {"frames": 12, "crc": 2, "runt": 0},
}


def test_relays_say_on_off_and_time_left() -> None:
    assert relay_text(["fog", True, 7500]) == "fog ON 7.5 s left"
    assert relay_text(["haze", False, 0]) == "haze off"
    assert relay_text(["house", True, -1]) == "house ON (no limit)"


def test_status_lines_show_cue_fade_relays_show_and_link_errors() -> None:
    text = "\n".join(status_lines(STATUS))
    assert text.splitlines()[0] == "stage-left  (/dev/ttyACM0)"
    assert "running  cue 12.5  next 13  fading 40%" in text
    assert "DMX 44 fps" in text and "fog ON 7.5 s left, haze off" in text and "ARMED" in text
    assert "show Tempest 76441214d4b5  (new show waiting for the fade to end)" in text
    assert "link: 12 frames, crc 2" in text  # only non-zero error counters are listed


def test_status_of_a_node_without_a_show() -> None:
    st = {
        "node": "",
        "mode": "no-show",
        "cue": "",
        "next": "",
        "relays": [],
        "show": "",
        "load_error": "show hash mismatch",
    }
    text = "\n".join(status_lines(st))
    assert "(no identity)" in text and "cue -  next -" in text and "relays: none" in text
    assert "no show" in text and "show not loaded: show hash mismatch" in text


def test_status_says_which_loops_run() -> None:
    text = "\n".join(status_lines({**STATUS, "loops": {"frame": "native", "go": "plain"}}))
    assert "loops: frame native, GO plain" in text
    assert "loops:" not in "\n".join(status_lines(STATUS))  # an older node does not say
