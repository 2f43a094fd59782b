"""Put an emulated node's MicroPython REPL into a given mode (tests and bench/)."""

from __future__ import annotations

import serial

TAKE_PORT = b"\r\x03\r\x01"  # what mpremote sends: the firmware hands over, REPL in raw mode
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
REPL_STATES = ("friendly", "raw", "raw-paste")


def enter_state(port_path: str, state: str) -> None:
    """From any REPL mode (or a running show) into `state`."""
    with serial.Serial(port_path, timeout=5) as port:
        port.write(b"\x03\x02")  # out of raw-paste/raw: friendly
        port.read_until(b">>> ")
        port.reset_input_buffer()
        if state == "friendly":
            return
        port.write(b"\x01")
        assert port.read_until(RAW_BANNER).endswith(RAW_BANNER)
        if state == "raw":
            return
        port.write(b"\x05A\x01")
        assert port.read(4)[:2] == b"R\x01"


def take_port(port_path: str) -> None:
    with serial.Serial(port_path, timeout=5) as port:
        port.write(TAKE_PORT)
        assert port.read_until(RAW_BANNER).endswith(RAW_BANNER)
