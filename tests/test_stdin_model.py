"""sys.stdin as the rp2/esp32 ports have it, in both emulator runtimes (issue 8).

On the ports `sys.stdin` is a text stream (reading a byte that is not UTF-8 raises
UnicodeError) and `sys.stdin.buffer` the binary one. The link's frames start with END (0xC0),
so a link that reads the text stream dies on its first frame. The emulator runtimes model
that, and the firmware reads the same `sys.stdin.buffer` there as on a board (no emulator-only
stream): the shipped firmware answers, and the firmware with the old text-stream line fails
here as it did on the emulated Pico."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import serial
from cuefw import link
from cuenode.emulator.fleet import Fleet, NodePlan

pytestmark = pytest.mark.timeout(120)
BINARY_LINE = "asyncio.StreamReader(sys.stdin.buffer)"
TEXT_LINE = "asyncio.StreamReader(sys.stdin)"  # the line that crashed on the emulated Pico


def talk(tty: str, wire: bytes, seconds: float = 3.0) -> bytes:
    """Send one link frame, collect what the node says for a while."""
    out = bytearray()
    with serial.Serial(tty, timeout=0.1) as port:
        port.write(wire)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            out += port.read(4096)
            if link.END in out or b">>> " in out:
                break
    return bytes(out)


def node_with(tmp_path: Path, runtime: str, edit: tuple[str, str] | None) -> tuple[Fleet, str]:
    fl = Fleet(tmp_path, runtime=runtime)
    node = fl.add(NodePlan("pi", None))
    if edit is not None:
        app = node.flash_dir / "nodeapp.py"
        source = app.read_text()
        assert source.count(edit[0]) == 1, "the link's stdin line moved: update this test"
        app.write_text(source.replace(*edit))
    fl.start()
    return fl, node.tty


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_the_link_reads_the_binary_stdin_and_answers(tmp_path: Path, runtime: str) -> None:
    fl, tty = node_with(tmp_path, runtime, None)
    try:
        said = talk(tty, bytes(link.encode(link.T_HELLO, 1)))
    finally:
        fl.stop()
    assert said.endswith(bytes([link.END])) and b'"node": "pi"' in said, said  # HELLO reply
    assert b"Traceback" not in said


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_a_link_on_the_text_stdin_dies_on_the_first_frame(tmp_path: Path, runtime: str) -> None:
    fl, tty = node_with(tmp_path, runtime, (BINARY_LINE, TEXT_LINE))
    try:
        said = talk(tty, bytes(link.encode(link.T_HELLO, 1)))
    finally:
        fl.stop()
    assert b"UnicodeError" in said or b"UnicodeDecodeError" in said, said
    assert b">>> " in said  # main.py ended: the node is at the REPL, as the Pico was
