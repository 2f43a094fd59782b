"""REPL diagnosis on the emulated Pico (MicroPython's RPI_PICO image on rp2040js): a node in
each REPL mode (friendly, raw, raw-paste) is named as at the REPL with `cuenode reset` as the
remedy, never "no cuenode firmware" (issue 11: >= 5 tries per mode, 0 wrong). One chip,
booted from a prepared image; wall-clock limits are hang guards only."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.errors import CuenodeError
from cuenode.node import ops
from pico_support import booted_pico1
from repl_states import REPL_STATES, enter_state

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(600)]
TRIES = 5


@pytest.fixture(scope="module")
def chip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedPico]:
    with booted_pico1(tmp_path_factory.mktemp("pico-repl")) as pico:
        with ops.connect(pico.port) as s:  # the firmware answers before the port is taken
            assert s.info.node_id == "pico1"
        pico.exec("pass")  # the real mpremote takes the port: the node is at the REPL
        yield pico


@pytest.mark.parametrize("state", REPL_STATES)
def test_every_try_in_every_repl_mode_says_at_the_repl(chip: EmulatedPico, state: str) -> None:
    wrong = []
    started = time.monotonic()
    for _ in range(TRIES):
        enter_state(chip.port, state)
        with pytest.raises(CuenodeError) as err:
            ops.connect(chip.port)
        text = err.value.format_message()
        if "at the MicroPython REPL" not in text or "cuenode reset" not in text:
            wrong.append(text)
    print(f"{state}: {TRIES} tries, {len(wrong)} wrong, {time.monotonic() - started:.1f} s wall")
    assert wrong == []
